"""Finding the driver a profile names: an entry point or ``module:Class``."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from harness.drivers.base import Driver, Exchange, Outgoing, Response
from harness.errors import UsageError
from harness.profile import TargetProfile

ENTRY_POINT_GROUP = "smlite.drivers"
BUILTIN = {"reference": "harness.drivers.reference:ReferenceDriver"}

__all__ = ["Driver", "Exchange", "Outgoing", "Response", "load_driver", "driver_class"]


def driver_class(spec: str) -> type[Driver]:
    spec = BUILTIN.get(spec, spec)
    if ":" in spec:
        module_name, _, class_name = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise UsageError("Cannot load driver", f"{spec}: {exc}") from None
    else:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
        if not found:
            names = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
            raise UsageError("Unknown driver", f"{spec!r}; installed: {', '.join(names) or 'none'}; "
                             "or name one as module:Class")
        cls = found[0].load()
    if not (isinstance(cls, type) and issubclass(cls, Driver)):
        raise UsageError("Not a driver", f"{spec} is not a subclass of harness.drivers.Driver")
    return cls


def load_driver(profile: TargetProfile) -> Driver:
    return driver_class(profile.driver)(profile)
