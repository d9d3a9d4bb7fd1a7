"""Text from git, the ledger or a pusher, made safe to print on a terminal (issue 14, item 10).

A commit subject, an author name or a break-glass reason is written by whoever pushed it. Raw,
its control characters drive the reader's terminal: ANSI/CSI sequences clear the screen or
repaint earlier lines (fake "reviewed by" text), OSC 52 writes the clipboard, OSC 8 hides
links, a carriage return overprints a line, and Unicode bidi controls reorder what is shown.
Every text output passes such text through :func:`printable`, which shows each of those
characters as a visible escape (``\\x1b``, ``\\u202e``) instead of obeying it.
"""

from __future__ import annotations

__all__ = ["printable"]

# C0 controls and DEL, C1 controls (U+0080..U+009F: 8-bit CSI/OSC), and the Unicode format
# characters that reorder or hide text (bidi embeddings, overrides and isolates; zero-width
# and line/paragraph separators), as in "Trojan Source" (CVE-2021-42574).
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0)]
_FORMAT = [0x200B, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_FORMAT += [0xFEFF]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE = {code: _escape(code) for code in [*_CONTROLS, *_FORMAT]}
_LINES = {**_TABLE}
del _LINES[0x0A]


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` with every control and reordering character shown as a visible escape.

    Args:
        text: anything; ``str(text)`` is escaped.
        newlines: keep ``\\n`` (where a line break is the output's own layout); every other
            control, ``\\r`` and ``\\t`` included, is escaped.
    """
    return str(text).translate(_LINES if newlines else _TABLE)
