"""The conformance suite's step definitions (pytest-bdd), in the domain's words."""
