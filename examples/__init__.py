"""Worked examples for vendors: a driver (example_driver.py), profiles, a gateway configuration (docs/vendors.md)."""
