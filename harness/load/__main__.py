"""``python -m harness.load``: the load run against the embedded sandbox (``make load``)."""

import sys

from harness.load.command import _standalone

sys.exit(_standalone())
