"""The target under test: its profile (schema, load, validation, files), how a run opens it
(a profile or the embedded sandbox), and ``smlite target check``. The transport to it lives in
``harness.drivers``."""
