"""``python -m pydas``: the same as the ``pydas`` command."""

import sys

from pydas.cli import main

sys.exit(main())
