"""`python -m snippets.doctor`: the same as the `promptops-doctor` command."""

import sys

from snippets.doctor.cli import main

sys.exit(main())
