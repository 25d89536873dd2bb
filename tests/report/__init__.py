"""Tests of the compliance report (harness/report/)."""
