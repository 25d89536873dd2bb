"""The ``smlite`` command: argument parsing and one module per command family."""
