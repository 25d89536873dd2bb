"""The target profile: what a vendor writes to say where its target is and what it can do.

Owns the schema and its validation (``schema``: ``TargetProfile``, ``load``), the recognition rules
of ``[classification]`` (``rules``), the ``[mailbox]`` table (``mailbox_table``) and the origins a
portal link may point to (``origins``). ``harness.profile.TargetProfile`` is part of the vendor
contract (docs/vendors.md).
"""

from harness.profile.schema import TargetProfile, load

__all__ = ["TargetProfile", "load"]
