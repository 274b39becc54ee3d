"""`python -m acct`: the same as the `acct` command."""

import sys

from acct.cli import main

sys.exit(main())
