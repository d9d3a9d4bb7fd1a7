"""``python -m twokey.doors hook-run``: the hook's entry point (see ``_entry.process_main``)."""

from __future__ import annotations

import sys

from twokey.doors._entry import process_main

if __name__ == "__main__":
    sys.exit(process_main(sys.argv[1:]))
