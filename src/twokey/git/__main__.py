"""``python -m twokey.git hook-run``: the installed hook's entry point.

It skips the full command line (which imports every command group) so that the hook starts
fast; with ``--socket PATH`` (written into the hook by ``hook install --server-socket``, never
taken from the environment) it first hands the push to a warm ``twokey hook serve`` process and
only judges in-process when none answers. ``twokey hook run`` does the same work.
"""

from __future__ import annotations

import sys

from twokey.git._client import forward

if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["post-receive-run"]:  # what landed (docs/hook.md, ADR 0015)
        from twokey.git._landed import post_receive_main

        sys.exit(post_receive_main())
    if args[:1] != ["hook-run"] or len(args) not in (1, 3) or args[1:2] not in ([], ["--socket"]):
        print(
            "usage: python -m twokey.git hook-run [--socket PATH]  (git runs this as pre-receive)",
            file=sys.stderr,
        )
        sys.exit(2)
    code = forward(sys.stdin, sys.stdout, args[2] if len(args) == 3 else "")
    if code is None:
        from twokey.git._entry import hook_main

        code = hook_main()
    sys.exit(code)
