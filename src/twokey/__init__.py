"""twokey: separation of duties for CI/CD.

No change reaches production on one person's say-so: one pure policy engine decides, many doors
(git hook, CI check, gateway, audit) ask it, and every decision is written to a tamper-evident
ledger.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
