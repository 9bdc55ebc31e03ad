"""`python -m bench`: the same as `retention bench`."""

import sys

from bench.cli import main

sys.exit(main())
