"""``python -m tests.hardening`` (``make hardening``): see tests/hardening/tally.py."""
import sys

from tests.hardening.tally import main

sys.exit(main())
