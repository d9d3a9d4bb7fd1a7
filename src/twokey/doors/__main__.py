"""``python -m twokey.doors hook-run``: the hook's entry point (see ``_entry.process_main``)."""

from __future__ import annotations

import sys

from twokey._deferred import import_deferring

# The hook never checks a bracketed host name: pathlib without ipaddress (ADR 0036).
import_deferring("pathlib", ("ipaddress",))

from twokey.doors._entry import process_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(process_main(sys.argv[1:]))
