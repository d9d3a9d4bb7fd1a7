"""Placeholder: this command group is registered by its owner module (not yet written)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register nothing yet."""
    del subparsers
