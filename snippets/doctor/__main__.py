"""`python -m snippets.doctor`: the same as the `promptops-doctor` command."""

import sys

from snippets.doctor import main

sys.exit(main())
