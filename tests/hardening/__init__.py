"""Hardening tests: bad input, faults and intruders against real Mailpit and gateway processes, counted.
``make hardening`` / ``python -m tools.hardening`` runs them and prints the table."""
