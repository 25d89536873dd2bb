"""Owns: the independent (vendor-style) Secure Messaging Lite implementation and its behaviour matrix."""
