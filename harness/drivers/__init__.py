"""Finding the driver a profile names: built-in, an entry point, or ``module:Class``.

``driver = "reference"`` is the built-in driver of the HTTP/SMTP contract;
another bare name is looked up in the entry point group ``smlite.drivers``;
``module:Class`` is imported, from the installed packages, then the profile's
own folder, then the current directory (so a vendor's ``my_driver.py`` next to
``my-target.toml`` just works). A profile may only declare capabilities its
driver supports. Every problem is a ``UsageError`` (exit 2), never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path

from harness.drivers.base import Driver, Exchange, Outgoing, Response
from harness.errors import SmliteError, UsageError
from harness.profile.schema import TargetProfile

ENTRY_POINT_GROUP = "smlite.drivers"
BUILTIN = {"reference": "harness.drivers.reference:ReferenceDriver"}

__all__ = ["Driver", "Exchange", "Outgoing", "Response", "driver_class", "load_driver"]


def _import(module_name: str, search: Iterable[str]) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise  # the driver's module exists but something it imports is missing
    added = [d for d in dict.fromkeys(search) if d and d not in sys.path]
    sys.path.extend(added)  # appended: a vendor's folder never shadows an installed package
    return importlib.import_module(module_name)


def driver_class(spec: str, search: Iterable[str] = ()) -> type[Driver]:
    """The class ``spec`` names; ``search``: folders to import ``module:Class`` from when not installed."""
    spec = BUILTIN.get(spec, spec)
    if ":" in spec:
        module_name, _, class_name = spec.partition(":")
        try:
            cls = getattr(_import(module_name, [*search, os.getcwd()]), class_name)
        except ImportError as exc:
            raise UsageError(
                "Cannot load driver",
                f"{spec}: {exc} (install it, or put the module next to the profile or in the current directory)",
            ) from None
        except AttributeError:
            raise UsageError("Cannot load driver", f"{spec}: module {module_name!r} has no {class_name!r}") from None
        except SmliteError:
            raise
        except Exception as exc:  # the vendor's module failed while importing
            raise UsageError("Cannot load driver", f"{spec}: importing it raised {type(exc).__name__}: {exc}") from None
    else:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
        if not found:
            names = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
            raise UsageError(
                "Unknown driver", f"{spec!r}; installed: {', '.join(names) or 'none'}; or name one as module:Class"
            )
        try:
            cls = found[0].load()
        except Exception as exc:
            raise UsageError(
                "Cannot load driver", f"entry point {spec!r} ({found[0].value}): {type(exc).__name__}: {exc}"
            ) from None
    if not (isinstance(cls, type) and issubclass(cls, Driver)):
        raise UsageError("Not a driver", f"{spec} is not a subclass of harness.drivers.Driver")
    return cls


def load_driver(profile: TargetProfile) -> Driver:
    """The profile's driver, started; its declared capabilities checked against what the driver supports."""
    search = [str(Path(profile.source_path).parent)] if profile.source_path else []
    cls = driver_class(profile.driver, search)
    unsupported = [c for c in profile.capabilities if c not in cls.supported]
    if unsupported:
        raise UsageError(
            "Bad target profile",
            f"capabilities {', '.join(unsupported)} are declared but driver "
            f"{profile.driver!r} does not support them (it supports: "
            f"{', '.join(sorted(cls.supported)) or 'nothing'}); remove them from 'capabilities'",
        )
    try:
        return cls(profile)
    except SmliteError:
        raise
    except Exception as exc:  # a vendor driver's constructor: its message, not a traceback
        raise UsageError("Cannot start driver", f"{profile.driver}: {type(exc).__name__}: {exc}") from None
