"""Where delivered mail is read: the recipients' mailboxes (Mailpit's API)."""
