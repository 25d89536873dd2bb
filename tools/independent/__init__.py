"""An implementation of docs/contract.md written apart from the reference gateway (harness/gateway/), with
its vendor's own driver, a catalogue of switchable behaviours and the matrix that runs the suite against
each (README.md here)."""
