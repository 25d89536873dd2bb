"""One scenario's world: its people, what was sent, what each person has seen.

People are made by a seeded faker (seed + scenario id), so a scenario gets the
same names on replay (``--seed``) and never meets another scenario's mail:
every address also carries a short random tag, unique per run.
"""

from __future__ import annotations

import re
import secrets
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faker import Faker

from harness import policy
from harness.conformance.record import ScenarioRecord
from harness.drivers.base import Driver, Response
from harness.errors import ConformanceFailure, HarnessError
from harness.observation.observer import Observer
from harness.observation.sm_portal import portal_text
from harness.profile.schema import TargetProfile

_FAKERS = threading.local()  # building a Faker costs ~7 ms: one per thread, re-seeded by each scenario


def _thread_faker() -> Faker:
    """This thread's Faker (scenarios run in threads of their own: a Faker is not shared between them)."""
    faker = getattr(_FAKERS, "faker", None)
    if faker is None:
        faker = _FAKERS.faker = Faker()
    return faker


@dataclass
class Person:
    role: str
    display_name: str
    address: str
    internal: bool
    seen_mail: set[str] = field(default_factory=set)
    seen_mpp: set[str] = field(default_factory=set)
    portal_links: list[str] = field(default_factory=list)
    portal_marker: str = ""  # the marker of the message ``portal_links`` lead to ("": the latest sent)
    opened: Response | None = None

    def __str__(self) -> str:
        kind = "internal" if self.internal else "external"
        return f"{self.role} ({kind}, {self.address})"


@dataclass
class Sent:
    """A secure message the scenario sent (or a reply), and what the target answered."""

    sender: Person
    recipients: list[Person]
    application: str
    definition: str | None
    subject: str
    marker: str
    response: Response
    copied: list[Person] = field(default_factory=list)  # Cc
    blind: list[Person] = field(default_factory=list)  # Bcc: envelope only
    delivered: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # role -> (mail id, portal links)


class World:
    def __init__(
        self,
        profile: TargetProfile,
        driver: Driver,
        observer: Observer,
        record: ScenarioRecord,
        seed: int,
        scenario_id: str,
    ):
        self.profile, self.driver, self.observer, self.record = profile, driver, observer, record
        self.seed = seed
        self.faker = _thread_faker()
        self.faker.seed_instance(seed ^ zlib.crc32(scenario_id.encode()))
        self.people: dict[str, Person] = {}
        self.sent: list[Sent] = []
        self.responses: list[Response] = []
        self.snapshot: Any = None
        self.ref = ""
        #: a @contract scenario: the source is silent, so every check in it is level "contract"
        self.contract_only = False
        #: the folder of the scenario's feature file (its message files are found from there)
        self.feature_folder: Path | None = None
        record.seed = seed
        driver.recorder = record.record_exchange

    def acted_at(self) -> float:
        """When the scenario last asked the target to do something that could make it send mail (monotonic;
        harness/drivers/watched.py): a barrier sent after it may prove absence for any later check."""
        return float(getattr(self.driver, "acted_at", 0.0))

    def level(self, level: str) -> str:
        """The level of a check in this scenario: in a @contract scenario every judged check is the
        contract's (harness/policy.py)."""
        return policy.written(policy.on_contract(level)) if self.contract_only else level

    # -- people --------------------------------------------------------------
    def add_person(self, role: str, internal: bool, domain_variant: Callable[[str, Any], str] | None = None) -> Person:
        """A person at one of the profile's domains; ``domain_variant`` (harness/source_model/domains.py) rewrites
        an *internal* domain first (seeded): a mixed-case spelling, a look-alike, a sub-domain."""
        first, last = self.faker.first_name(), self.faker.last_name()
        local = re.sub(r"[^a-z0-9]+", ".", f"{first}.{last}".lower()).strip(".")
        domains = self.profile.internal_domains if internal or domain_variant else self.profile.external_domains
        domain = domains[self.faker.random_int(0, len(domains) - 1)]
        if domain_variant is not None:
            domain = domain_variant(domain, self.faker.random)
        person = Person(role, f"{first} {last}", f"{local}.{secrets.token_hex(3)}@{domain}", internal)
        self.people[role] = person
        return person

    def person(self, role: str) -> Person:
        if role not in self.people:
            raise HarnessError("Unknown person in the scenario", f"{role!r}; known: {', '.join(self.people)}")
        return self.people[role]

    def persons(self, roles_text: str) -> list[Person]:
        """'Erik', 'Erik and Ida', 'Erik, Ida and Ines'."""
        return [self.person(r.strip()) for r in re.split(r",|\band\b", roles_text) if r.strip()]

    # -- messages --------------------------------------------------------------
    def new_content(self, sender: Person) -> tuple[str, str, str]:
        marker = f"smlite-{secrets.token_hex(6)}"
        subject = f"{self.faker.sentence(nb_words=4).rstrip('.')} [{marker[-6:]}]"
        text = f"{self.faker.paragraph(nb_sentences=2)}\n\nReference: {marker}\n-- \n{sender.display_name}\n"
        return subject, text, marker

    def last_sent(self) -> Sent:
        if not self.sent:
            raise HarnessError("No message sent yet in this scenario")
        return self.sent[-1]

    def portal_link_for(self, person: Person) -> str:
        """The person's link to the latest message, from their mail or MPP; waits for the mail."""
        message = self.last_sent()
        observation = self.observer.mailbox(person.address, person.seen_mail, message.marker)
        for kind, title, data in observation.evidence:
            self.record.add_evidence(kind, title, data)
        links = list(observation.links)
        if not links and person.internal and "mpp" in self.driver.capabilities:
            links = self.observer.mpp(person.address, True, person.seen_mpp, message.marker, False).links
        if not links and "sm-portal-sign-in" in self.driver.capabilities:  # no link in mail: sign in
            links = [
                link
                for link in self.driver.portal_links_as(person.address)
                if message.marker in portal_content(self.driver.portal_open(link))
            ][:1]
        if not links:
            raise ConformanceFailure(
                f"{person.role} has no way into the SM Portal",
                f"expected a portal link in what {person.address} got for '{message.subject}'",
                observation.detail,
            )
        person.portal_links, person.portal_marker = links, message.marker
        return links[0]


def portal_content(answer) -> str:
    """The text of an SM Portal answer: text, HTML and parts (empty unless it opened)."""
    return portal_text(answer.body if answer.status == 200 and isinstance(answer.body, dict) else {})
