"""`python -m nanonas ...` works like the `nanonas` command."""

import sys

from .cli import main

sys.exit(main())
