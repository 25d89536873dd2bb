"""The source as data: the vendor page's definitions, attributes and tables (``source``) and
how a delivered message is recognised as a Notification or an Email with banner (``classify``)."""
