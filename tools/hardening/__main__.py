"""``python -m tools.hardening`` (``make hardening``): see tools/hardening/tally.py."""

import sys

from tools.hardening.tally import main

sys.exit(main())
