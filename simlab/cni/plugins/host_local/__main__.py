"""``python -m simlab.cni.plugins.host_local``: the same as the ``simlab-host-local`` executable."""

import sys

from . import main

sys.exit(main())
