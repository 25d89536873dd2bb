"""The driver boundary: everything the suite does to a target, and nothing else.

Steps talk to a target only through a ``Driver``; a driver talks to its target
only over the network. The boundary is deliberately small (schemathesis's
"transport" idea): send a message from an application, act in the SM Portal,
read the MPP view, use the Administration Console, move the clock. Each
capability a target lacks is simply not declared in its profile, and scenarios
needing it are reported "not applicable".

Every exchange is handed to ``recorder`` (when set) so it becomes evidence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.profile.schema import TargetProfile


@dataclass
class Attachment:
    """A file attached to an outgoing message (SMTP submission only: the MPP API has no attachments)."""

    filename: str
    content: bytes
    content_type: str = "text/plain"


@dataclass
class Outgoing:
    """A message a user writes. ``attachments`` and ``names`` (display names by address) are
    optional additions: a driver that ignores them still sends the message. ``bcc`` (blind-copied
    recipients: in the SMTP envelope, never in the header) is an optional addition too, but one a
    driver must not drop silently: the suite gives a ``bcc`` only to a driver whose ``sends_bcc``
    is true, and reports scenarios with a Bcc "not applicable" otherwise. ``raw`` (a whole RFC 5322
    message, e.g. real mail from a public corpus) likewise goes only to a driver whose ``sends_raw`` is
    true: it is submitted as written to ``to`` (envelope recipients), with only what marks the
    definition and the application added; ``subject`` and ``text`` then only name it in evidence."""

    sender: str
    to: list[str]
    subject: str
    text: str
    cc: list[str] = field(default_factory=list)
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    bcc: list[str] = field(default_factory=list)
    raw: bytes | None = None


@dataclass
class Response:
    """What the target answered: an HTTP status or an SMTP reply code, and a body."""

    status: int
    body: Any = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 or self.status == 250


@dataclass
class Exchange:
    """One request and its answer, kept as evidence."""

    channel: str  # http | smtp
    request: str
    status: int
    answer: str
    elapsed_s: float


Recorder = Callable[[Exchange], None]


class Driver(ABC):
    """A target, as the suite sees it. Subclass and declare ``supported``."""

    #: the capabilities this driver can implement at all; a profile may declare fewer.
    supported: frozenset[str] = frozenset()
    #: optional, for people and error messages: the ``[target]`` keys the driver reads, and what each means.
    settings_keys: dict[str, str] = {}
    #: optional: true when ``send`` delivers ``Outgoing.bcc`` (SMTP submission: envelope recipients that
    #: are in no header). A driver written before ``bcc`` existed leaves it false, and the suite never
    #: hands it a Bcc: the Bcc scenarios are "not applicable" for it instead of silently losing a recipient.
    sends_bcc: bool = False
    #: optional: true when ``send`` submits ``Outgoing.raw`` as written (SMTP submission). Without it, the
    #: scenarios that send real mail are "not applicable" (docs/vendors.md, "Real mail").
    sends_raw: bool = False

    def __init__(self, profile: TargetProfile):
        self.profile = profile
        self.recorder: Recorder | None = None

    @property
    def capabilities(self) -> frozenset[str]:
        return self.supported & frozenset(self.profile.capabilities)

    def record(self, exchange: Exchange) -> None:
        if self.recorder is not None:
            self.recorder(exchange)

    # -- sending ---------------------------------------------------------
    @abstractmethod
    def send(self, application: str, definition: str | None, message: Outgoing) -> Response:
        """Send ``message`` securely from ``application`` (slug) with ``definition``.

        ``application`` is ``outlook`` or ``mac`` (capability smtp-submission) or
        ``mpp`` (capability mpp); ``definition`` is whatever the scenario names
        (``All``, ``External``, or an unknown one that must be refused).
        ``definition=None`` sends an ordinary, non-secure message from
        ``outlook`` (the suite uses one as a barrier to prove that nothing else
        arrived before it, and ``smlite target check`` to probe the relay).

        For the SM Portal the message is a reply: use ``portal_reply`` instead.
        A refusal is a Response with a 4xx/5xx status (or SMTP 5xx) and the
        target's explanation in ``text``, not an exception.
        """

    # -- SM Portal ---------------------------------------------------------
    @abstractmethod
    def portal_open(self, link: str) -> Response:
        """Open the message behind ``link`` (a portal link found in a delivered mail or MPP item).

        200 with ``body`` a dict: ``subject``, ``text``, ``html``, ``permissions``
        (``{"print": bool, "reply": bool, "reply_all": bool}``) and ``expires_at``
        (None: never expires). A dead or unknown link: a 4xx status.
        """

    @abstractmethod
    def portal_reply(self, link: str, text: str, reply_all: bool = False) -> Response:
        """Reply (or reply all) to the message behind ``link``, as its recipient; 2xx when accepted."""

    @abstractmethod
    def portal_print(self, link: str) -> Response:
        """Try to print the message behind ``link``; the source requires a 4xx refusal."""

    def portal_page(self, link: str) -> Response:
        """Capability sm-portal-page (optional): the SM Portal's page behind ``link`` as a browser gets
        it: 200 with the HTML in ``text``. The suite checks there too what the attributes allow."""
        raise NotImplementedError

    def portal_fetch(self, url: str) -> Response:
        """Capability sm-portal-whole-message (optional): GET a URL the SM Portal's answer gives
        (``raw_url``, an attachment's ``url``): ``Response(status, body=the bytes, text=the
        content type)``. Only URLs on the target's declared origins."""
        raise NotImplementedError

    def portal_links_as(self, user: str) -> list[str]:
        """Capability sm-portal-sign-in (optional): sign in to the SM Portal as ``user`` and return a
        link ``portal_open`` accepts for each message there, newest first. For targets whose
        recipients reach the SM Portal by signing in rather than through a link in their mail."""
        raise NotImplementedError

    def portal_index(self, recipient: str) -> list[dict[str, Any]]:
        """Capability sm-portal-index: what the SM Portal holds for ``recipient``, dicts with ``subject``."""
        raise NotImplementedError

    # -- MPP ---------------------------------------------------------------
    def mpp_view(self, user: str) -> list[dict[str, Any]]:
        """Capability mpp: the internal ``user``'s MPP items, oldest first: dicts with ``id``
        (stable), ``subject``, ``text``, ``html``, ``headers`` (name → value), ``received_at``
        (ISO-8601) and ``portal_url`` (None when the item has no portal link)."""
        raise NotImplementedError

    # -- Administration Console ----------------------------------------------
    def list_definitions(self) -> Response:
        """Capability admin-console: 200 with ``body`` ``{"definitions": [{"name", "description",
        "attributes": [{"name", "value"}, ...]}, ...]}``, names and values verbatim."""
        raise NotImplementedError

    def change_definition(self, action: str, name: str, body: dict[str, Any]) -> Response:
        """Capability admin-console: try to ``create``, ``change`` or ``delete`` a definition
        (``body``: name and attributes, or the attributes to change); the source requires a 4xx refusal."""
        raise NotImplementedError

    # -- clock ---------------------------------------------------------------
    def advance_clock(self, days: int) -> Response:
        """Capability clock: move the target's clock ``days`` forward; 2xx when done."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Name and version as the target reports them (health endpoint or profile).

        Called before the suite starts and by ``smlite target check`` as the
        reachability probe: raise ``HarnessError("Target unreachable", ...)`` (or
        let an ``OSError`` through) when the target does not answer."""
        return {"name": self.profile.name, "version": self.profile.version}

    def close(self) -> None:  # noqa: B027  (optional: a driver without connections has nothing to release)
        """Release connections."""
