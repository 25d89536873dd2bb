"""The smlite reference gateway: a Secure Messaging Lite target in its own process.

It owns nothing itself; the modules beside it each own one concern (see their
docstrings). Start it with ``python -m harness.gateway --config FILE.toml``.
The gateway stands alone: it imports nothing from ``harness`` outside this
package, so the suite's own oracle and the gateway can be compared.
"""

__version__ = "0.1.0"
