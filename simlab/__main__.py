"""`python -m simlab` is the `simlab` command."""

import sys

from .cli import main

sys.exit(main())
