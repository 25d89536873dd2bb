"""smlite's bench: how fast the suite runs against the mail floor, and how the
reference gateway scales (``python -m bench``; see docs/bench.md)."""
