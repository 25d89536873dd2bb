"""Opening the target of a run: a profile, the running sandbox, or an embedded one.

Owns: ``open_target()`` (used by ``smlite run``, ``simulate`` and ``load``) and
``choose_seed()``, the one place a faker seed is drawn when none is given.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator

from harness.errors import UsageError
from harness.profile.schema import TargetProfile, from_sandbox, load

SEED_RANGE = (1, 2**31)


def choose_seed(given: int | None = None) -> int:
    """``given``, or a fresh seed; callers print it so the run can be replayed."""
    return given if given is not None else random.SystemRandom().randrange(*SEED_RANGE)


@contextlib.contextmanager
def open_target(
    profile_path: str | None = None,
    *,
    embedded: bool = True,
    variant: str = "",
    internal_domains: list[str] | None = None,
    loaded: TargetProfile | None = None,
    say: Callable[[str], None] = lambda _text: None,
) -> Iterator[TargetProfile]:
    """The profile of ``profile_path`` (already ``loaded``, if given); else, when ``embedded``, a
    sandbox started for the block and stopped after it; else the running ``smlite sandbox up``."""
    if profile_path:
        profile = loaded or load(profile_path)
        say(f"target: {profile.name} {profile.version} (profile {profile_path})")
        yield profile
        return
    from harness.sandbox.lifecycle import Sandbox, read_state

    if not embedded:
        state = read_state()
        if not state:
            raise UsageError(
                "No sandbox is running", "start one with `smlite sandbox up` in another terminal, or pass --ephemeral"
            )
        yield from_sandbox(state)
        return
    say(
        "starting the embedded sandbox (Mailpit + reference gateway)"
        + (f" with broken variant {variant!r}" if variant else "")
        + " …"
    )
    started = time.perf_counter()
    with Sandbox(variant=variant, internal_domains=internal_domains or None) as sandbox:
        say(f"sandbox ready in {time.perf_counter() - started:.2f}s")
        yield from_sandbox(sandbox.info())
