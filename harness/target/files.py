"""Writing the TOML files smlite hands to people and processes: target profiles, the gateway's
configuration. One writer, ``tomli-w`` (the standard library reads TOML but cannot write it).

Owns: ``toml_text(values, comment)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomli_w


def toml_text(values: Mapping[str, Any], comment: str = "") -> str:
    """``values`` as TOML (keys, then tables), under ``comment`` written as ``#`` lines."""
    header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return header + ("\n" if header else "") + tomli_w.dumps(dict(values))
