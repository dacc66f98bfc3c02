"""`python -m api.cli` runs the diaban command line."""

import sys

from api.cli.main import main

sys.exit(main())
