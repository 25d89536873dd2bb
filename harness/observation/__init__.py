"""Observation: what a recipient got, in the source's three columns, read through a driver and a mailbox.

Owns recognising what a delivered item is (``recognition``: Notification, Email with banner, plain,
nothing), what an SM Portal page offers (``page``), waiting for mail (``waiting``: deadlines,
barriers, the latency measured so far), one module per column (``mail_box``, ``mpp``, ``sm_portal``),
the value they return (``values``) and the ``Observer`` that asks them (``observer``).
"""
