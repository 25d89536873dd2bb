"""Reaching a target: one way for every command.

Owns ``connect(profile)`` (harness/connection/connect.py: the driver, the mailbox of the profile's
kind, the observer and the clock, as one context manager), ``open_target`` (a profile, the running
sandbox, or an embedded one; and the run's seed) and ``smlite target check``.
"""
