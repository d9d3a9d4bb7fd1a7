"""``python -m twokey.git hook-run``: the installed hook's fast entry point.

It skips the full command line (which imports every command group) so that the hook's
start-up stays inside its time budget; ``twokey hook run`` does the same work.
"""

from __future__ import annotations

import sys

from twokey.git._entry import hook_main

if __name__ == "__main__":
    if sys.argv[1:] != ["hook-run"]:
        print(
            "usage: python -m twokey.git hook-run  (git runs this as pre-receive)", file=sys.stderr
        )
        sys.exit(2)
    sys.exit(hook_main())
