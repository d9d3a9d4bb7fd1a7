"""``python -m twokey.git hook-run``: what installed hooks run; a shim over the hook door.

The hook moved into ``twokey.doors`` (ADR 0014); hooks installed before (and after: ``hook
install`` still writes this line) call this module, which hands over at once.
"""

from __future__ import annotations

import gc
import sys

# Importing the hook makes no cyclic garbage (every object lives as long as the process): the
# collector stays off while it runs, and process_main decides what follows (ADR 0035, 0040).
_COLLECTING = gc.isenabled()
gc.disable()

from twokey._deferred import import_pathlib, import_subprocess  # noqa: E402

# The hook never makes a URI of a path, nor sends a signal to git: pathlib without urllib.parse,
# subprocess without signal (ADR 0036, 0040).
import_pathlib()
import_subprocess()

from twokey.doors import process_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(process_main(sys.argv[1:], collecting=_COLLECTING))
elif _COLLECTING:  # imported, not run: the collector as it was
    gc.enable()
