"""The simulated users of `smlite load`: a Locust ``User`` and its world.

* ``Population``: a seeded faker population, half internal (the profile's
  internal domains), half external; every sender is internal (SMTP
  submission and the MPP both require it).
* ``LoadContext``: what the users share: the run tag every subject carries
  (``[<tag>-<seq>]``), the bounded message counter, what was accepted (for
  counting deliveries), and the queue of sampled messages. A sampled message
  goes to fresh addresses of one kind (all internal or all external), so each
  recipient's Mail Box, MPP and SM Portal hold exactly that message and the
  source's per-recipient tables apply without the mixed-recipient question
  (defect D4); the other messages mix 1–3 recipients of both kinds.
* ``SecureMessagingUser``: sends from outlook and mac (SMTP) and mpp (HTTP)
  with All or External through the profile's driver, one message every
  ``pacing_s`` (users / rate) from a random start, so the users' sends are
  spread evenly rather than in bursts; it reports each send to
  Locust's request event (name ``<app> <definition>``; SMTP 250 / HTTP 202
  is a success, any other answer a failure).

harness/load/locustfile.py offers the same users to Locust's own CLI
(master/worker mode, docs/load.md).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import re
import secrets
import time
from dataclasses import dataclass, field

from faker import Faker
from gevent.queue import Queue
from locust import User, task
from locust.exception import StopUser

from harness.connection.connect import connect
from harness.drivers.base import Outgoing
from harness.errors import HarnessError
from harness.load.sample import Sample
from harness.profile.schema import TargetProfile

APPS = {"outlook": "SMTP", "mac": "SMTP", "mpp": "HTTP"}
DEFINITIONS = ("All", "External")


@dataclass(frozen=True)
class Person:
    name: str
    address: str
    internal: bool

    def fresh(self, suffix: str) -> str:
        """Another address of the same person's kind, unique to one sampled message."""
        local, _, domain = self.address.partition("@")
        return f"{local}.{suffix}@{domain}"


class Population:
    def __init__(self, profile: TargetProfile, seed: int, size: int = 100):
        faker = Faker()
        faker.seed_instance(seed)
        self.internal: list[Person] = []
        self.external: list[Person] = []
        for i in range(size):
            internal = i % 2 == 0
            first, last = faker.first_name(), faker.last_name()
            local = re.sub(r"[^a-z0-9]+", ".", f"{first}.{last}".lower()).strip(".") + f".{i}"
            domains = profile.internal_domains if internal else profile.external_domains
            person = Person(f"{first} {last}", f"{local}@{domains[i % len(domains)]}", internal)
            (self.internal if internal else self.external).append(person)
        self.faker = faker


@dataclass
class LoadContext:
    profile: TargetProfile
    seed: int
    sample_every: int = 10
    max_samples: int = 60
    max_messages: int = 100_000
    pacing_s: float = 1.0  # seconds between two sends of one user (users / rate)
    apps: tuple[str, ...] = tuple(APPS)  # the applications users send from (--apps)
    tag: str = field(default_factory=lambda: "ld" + secrets.token_hex(4))

    def __post_init__(self) -> None:
        self.population = Population(self.profile, self.seed)
        self._seq = itertools.count(1)
        self.sent_at: dict[int, float] = {}  # seq -> perf_counter when its send began
        self.recipients: dict[int, int] = {}  # seq -> distinct recipients, accepted messages only
        self.by_app: dict[str, int] = {}
        self.by_definition: dict[str, int] = {}
        self.attempted = self.refused = self.errors = self.sampled = self.in_flight = 0
        self.closing = False  # set when the time is up: users finish their send and stop
        self.samples: Queue = Queue()

    def next_seq(self) -> int | None:
        seq = next(self._seq)
        return seq if seq <= self.max_messages else None

    def wants_sample(self, seq: int) -> bool:
        return seq % self.sample_every == 0 and self.sampled < self.max_samples

    def expected_deliveries(self) -> int:
        return sum(self.recipients.values())


class SecureMessagingUser(User):
    """One person at a desk: sends a secure message, waits, sends again."""

    #: set by harness/load/run.py or harness/load/locustfile.py (not ``context``: that is Locust's own method)
    shared: LoadContext | None = None

    @property
    def load(self) -> LoadContext:
        if self.shared is None:
            raise HarnessError(
                "SecureMessagingUser has no context",
                "run it through smlite load or set SMLITE_LOAD_PROFILE for locust -f harness/load/locustfile.py",
            )
        return self.shared

    def on_start(self) -> None:
        self._connection = contextlib.ExitStack()
        self.driver = self._connection.enter_context(connect(self.load.profile, mailbox=False)).driver
        self.rng = random.Random(f"{self.load.seed}-{id(self)}")
        # users all start at once: a random offset within one pacing interval spreads their sends
        # evenly over time (Locust's constant_throughput would keep them in bursts of N)
        time.sleep(self.rng.uniform(0, self.load.pacing_s))  # load pacing, not a wait for mail (no poll)
        self._due = time.monotonic()

    def wait_time(self) -> float:
        """One send every ``pacing_s`` seconds on this user's own schedule (catching up at most one)."""
        now = time.monotonic()
        self._due = max(self._due + self.load.pacing_s, now - self.load.pacing_s)
        return max(0.0, self._due - now)

    def on_stop(self) -> None:
        self._connection.close()

    @task(2)
    def from_outlook(self) -> None:
        self.send("outlook")

    @task(1)
    def from_mac(self) -> None:
        self.send("mac")

    @task(2)
    def from_mpp(self) -> None:
        self.send("mpp")

    def _people(self, seq: int, sampled: bool) -> tuple[str, list[tuple[str, bool]]]:
        people = self.load.population
        sender = self.rng.choice(people.internal)
        if sampled:
            group = self.rng.choice((people.internal, people.external))
            chosen = self.rng.sample([p for p in group if p is not sender], self.rng.randint(1, 2))
            return sender.address, [(p.fresh(f"s{seq}{self.load.tag}"), p.internal) for p in chosen]
        others = [p for p in people.internal + people.external if p is not sender]
        return sender.address, [(p.address, p.internal) for p in self.rng.sample(others, self.rng.randint(1, 3))]

    def send(self, application: str) -> None:
        ctx = self.load
        seq = None if ctx.closing else ctx.next_seq()
        if seq is None:
            raise StopUser()  # time is up or the message cap is reached: this user is done
        if application not in ctx.apps:  # the task's application is left out (--apps): another one
            application = self.rng.choice(ctx.apps)
        definition = self.rng.choice(DEFINITIONS)
        sampled = ctx.wants_sample(seq)
        if sampled:
            ctx.sampled += 1
        sender, recipients = self._people(seq, sampled)
        marker = f"smlite-load-{ctx.tag}-{seq}"
        subject = f"{ctx.population.faker.sentence(nb_words=4).rstrip('.')} [{ctx.tag}-{seq}]"
        text = f"{ctx.population.faker.paragraph(nb_sentences=2)}\n\nReference: {marker}\n"
        ctx.attempted += 1
        ctx.in_flight += 1
        started = time.perf_counter()
        ctx.sent_at[seq] = started  # before the send: a delivery can be announced before the answer
        exception: Exception | None = None
        try:
            answer = self.driver.send(
                application, definition, Outgoing(sender, [a for a, _ in recipients], subject, text)
            )
            if not answer.ok:
                exception = HarnessError("refused", f"{answer.status} {answer.text[:200]}")
                ctx.refused += 1
        except HarnessError as error:
            exception = error
            ctx.errors += 1
        finally:
            ctx.in_flight -= 1
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.environment.events.request.fire(
            request_type=APPS[application],
            name=f"{application} {definition}",
            response_time=elapsed_ms,
            response_length=len(text),
            exception=exception,
            context={},
        )
        if exception is not None:
            return
        ctx.recipients[seq] = len({a.lower() for a, _ in recipients})
        ctx.by_app[application] = ctx.by_app.get(application, 0) + 1
        ctx.by_definition[definition] = ctx.by_definition.get(definition, 0) + 1
        if sampled:
            ctx.samples.put(Sample(seq, application, definition, sender, recipients, subject, marker, started))
