"""``python -m twokey``."""

import sys

from twokey.cli import main

sys.exit(main())
