"""``python -m twokey.git hook-run``: the installed hook's entry point.

It skips the full command line (which imports every command group) so that the hook starts
fast; with ``$TWOKEY_HOOK_SOCKET`` set it first hands the push to a warm ``twokey hook serve``
process and only judges in-process when none answers. ``twokey hook run`` does the same work.
"""

from __future__ import annotations

import sys

from twokey.git._client import forward

if __name__ == "__main__":
    if sys.argv[1:] == ["post-receive-run"]:  # what landed (docs/hook.md, ADR 0015)
        from twokey.git._landed import post_receive_main

        sys.exit(post_receive_main())
    if sys.argv[1:] != ["hook-run"]:
        print(
            "usage: python -m twokey.git hook-run  (git runs this as pre-receive)", file=sys.stderr
        )
        sys.exit(2)
    code = forward(sys.stdin, sys.stdout)
    if code is None:
        from twokey.git._entry import hook_main

        code = hook_main()
    sys.exit(code)
