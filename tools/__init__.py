"""Tools that are not tests: the independent implementation of the contract (``tools.independent``) and
the hardening runner (``tools.hardening``). Their tests live under tests/."""
