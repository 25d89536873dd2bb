"""The sandbox: child processes, Mailpit (find, build, run), the reference gateway's process and
the state file of a running ``smlite sandbox up``."""
