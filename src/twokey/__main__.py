"""``python -m twokey`` and the ``twokey`` script (``run``)."""

import gc
import sys


def run() -> int:
    """This process's command line. Importing the command line makes no cyclic garbage (every
    object it makes lives as long as the process), so the collector is off while it runs and
    ``main`` decides what follows, knowing whether it was on (ADR 0035, 0040)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        from twokey.cli import main  # noqa: PLC0415
    except BaseException:
        if collecting:
            gc.enable()
        raise
    return main(collecting=collecting)


if __name__ == "__main__":
    sys.exit(run())
