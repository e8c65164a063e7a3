"""``python -m rehue``: the ``rehue`` command where the environment's scripts folder is not on PATH
(a notebook's kernel, a venv that was not activated)."""
import sys

from rehue.cli import main

sys.exit(main())
