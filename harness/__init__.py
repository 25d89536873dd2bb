"""smlite: conformance harness and scenario simulator for Secure Messaging - Lite."""

__version__ = "0.1.0"
SOURCE_DOCUMENT_ID = "000_99618b2f85010427"
