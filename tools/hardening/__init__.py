"""``python -m tools.hardening`` (``make hardening``): runs tests/hardening and prints what was tried, counted."""
