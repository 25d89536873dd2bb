"""Owns: a shrunk counterexample as a reproduction a person can run (Gherkin and ``smlite simulate``)."""
