"""`python -m clkg`: the command line (see clkg.cli)."""
import sys

from clkg.cli import main

sys.exit(main())
