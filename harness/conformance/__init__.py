"""The conformance engine: observe a recipient, judge its cells against the source, the results
model, the pytest plugin that collects them, and ``smlite run`` / ``selfcheck`` / ``simulate``."""
