"""Tests of the vendor path: profiles, drivers, target check, OpenAPI copy, other configurations, certification."""
