"""``python -m bench NAME|all [--quick]``: see :mod:`bench.runner` (``python -m bench --help``)."""

import sys

from bench.runner import main

sys.exit(main())
