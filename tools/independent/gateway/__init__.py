"""Owns: "Northwind Secure Mail", an independent implementation of Secure Messaging Lite.

Written from docs/contract.md, docs/openapi.json and the source alone (never from
harness/gateway/). Libraries differ from the reference on purpose: Flask on
Werkzeug's threaded server for HTTP, a hand-written threaded SMTP server
(gateway/smtp.py says why), stdlib sqlite3 and smtplib.
"""
