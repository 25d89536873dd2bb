"""Hardening tests: bad input, faults and intruders against real Mailpit and gateway processes, counted
(issue 6). ``make hardening`` / ``python -m tests.hardening`` runs them and prints the table."""
