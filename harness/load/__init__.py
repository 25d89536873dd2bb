"""``smlite load``: Locust users sending secure messages, a conformance sample, lost-message count."""
