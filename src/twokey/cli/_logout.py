"""``twokey logout``: revoke and forget the saved gateway token (see ``_login``)."""

from __future__ import annotations

from twokey.cli._login import register_logout as register

__all__ = ["register"]
