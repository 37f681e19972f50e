"""``python -m <module> <command>``: see :mod:`.cli`."""

import sys

from .cli import main

sys.exit(main())
