"""Where delivered mail is read: the recipients' mailboxes.

Owns the values every backend returns (``types``), the ``Mailbox`` interface and ``open_mailbox``
(``backends``), Mailpit's API (``mailpit``, with its JSON in ``mailpit_json``, its event stream in
``mailpit_events`` and the one reader of it every wait shares in ``mailpit_hub``), IMAP test mailboxes
(``imap``, logging in as ``imap_settings`` says), reading a raw message (``parsing``) and the
control round-trip that proves the harness's own mail sandbox works (``control``).
"""
