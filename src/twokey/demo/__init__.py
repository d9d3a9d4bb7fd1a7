"""The walkthrough (shared/WALKTHROUGH.md) as a runnable story on a sample repository."""

from twokey.demo._walkthrough import Step, Walkthrough, run_walkthrough

__all__ = ["Step", "Walkthrough", "run_walkthrough"]
