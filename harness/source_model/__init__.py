"""The source's model: the vendor page "Secure Messaging - Lite Definitions" as data.

Owns ``source`` (the definitions, their attributes, the three tables cell by cell with each cell's
standing, the page's defects, the oracle ``expected_cells``) and ``domains`` (the ways an address
can resemble an internal domain, for the scenarios about who is internal). Nothing here talks to a
target or reads mail.
"""
