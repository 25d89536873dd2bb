"""Public import path of the target profile for drivers (docs/vendors.md): ``harness.profile.TargetProfile``.

The profile itself lives in ``harness.target.profile``; this name is part of the vendor contract."""
from harness.target.profile import TargetProfile, load

__all__ = ["TargetProfile", "load"]
