"""Owns: a shrunk counterexample written as something a person can run — a Gherkin feature in the source's
words, with only steps that exist in steps/ (run it with ``smlite run --features FILE``), and the
``smlite simulate`` command of each message it sends (exact addresses; ``$TAG`` keeps each replay's
mail apart from the last one).

The Gherkin states the conversation's structure (who is internal, how each address's domain is written,
the application, the definition as named, the shape of the content, each action in order); the exact
drawn text, display names and attachment bytes are in the simulate commands and in results.json.
"""

from __future__ import annotations

from typing import Any

from harness.exploration import mime
from harness.exploration.model import CASE_VARIANT, LOOK_ALIKE, SUB_DOMAIN, AddressPlan, ContentPlan, Step
from harness.profile.schema import TargetProfile
from harness.source_model import promises as P
from harness.source_model.source import APPLICATIONS

_PEOPLE = {
    CASE_VARIANT: 'an internal user "{}" whose address writes an internal domain in mixed case',
    LOOK_ALIKE: 'an external user "{}" at a domain that ends with an internal domain\'s name',
    SUB_DOMAIN: 'an external user "{}" at a sub-domain of an internal domain',
}
_REQUIRES = {
    "send": "",
    "unknown": "smtp-submission",
    "reply": "sm-portal",
    "open": "sm-portal",
    "raw": "smtp-submission",
}
_REQUIRES |= {"malformed": "smtp-submission"}
_REQUIRES |= {"clock": "clock", "console": "admin-console"}


def _shape(content: ContentPlan) -> str:
    """The nearest shape of steps/shapes.py: the feature's sentence for the drawn content."""
    if content.attachments:
        return "a secure message with an attachment"
    if content.html:
        return "a secure message with an HTML part"
    if content.long:
        return "a long secure message"
    if any(not c.isascii() for c in content.subject_words):
        return "a secure message with a non-ASCII subject and sender name"
    return "a secure message"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _person_line(name: str, plan: AddressPlan) -> str:
    if plan.form in _PEOPLE:
        return _PEOPLE[plan.form].format(name)
    return f'an {"internal" if plan.internal else "external"} user "{name}"'


def _send_lines(fields: dict[str, Any]) -> list[str]:
    plan, names = fields["plan"], list(fields["names"])
    sender, rest = names[0], names[1:]
    to, cc, bcc = (
        rest[: len(plan.to)],
        rest[len(plan.to) : len(plan.to) + len(plan.cc)],
        rest[len(plan.to) + len(plan.cc) :],
    )
    app = APPLICATIONS[plan.application].name
    line = f'When {sender} sends {_shape(plan.content)} from "{app}" using the "{plan.definition}" definition to {_names(to)}'
    if cc:
        line += f", copying {_names(cc)}"
    if bcc:
        line += f", blind-copying {_names(bcc)}"
    return [line, "Then every recipient gets what the source says for them"]


def eml_name(promise_key: str, index: int) -> str:
    """The file a reproduction's message sent as written is kept in, next to its feature file (where
    ``smlite run --features`` finds it)."""
    return f"{''.join(c if c.isalnum() or c in '-_' else '-' for c in promise_key)}-{index}.eml"


def eml_files(promise_key: str, steps: list[Step]) -> dict[str, bytes]:
    """The messages as written of a reproduction, by the name its Gherkin gives them."""
    raws = [s for s in steps if s.kind == "raw"]
    return {
        eml_name(promise_key, i): mime.build(
            s.fields["shape"], s.fields["plan"].sender, list(s.fields["plan"].to), f"smlite-reproduction-{i}"
        )
        for i, s in enumerate(raws, 1)
    }


def _action_lines(step: Step, promise_key: str = "", index: int = 0) -> list[str]:
    f = step.fields
    if step.kind == "send":
        return _send_lines(f)
    if step.kind == "raw":
        plan, names = f["plan"], list(f["names"])
        app = APPLICATIONS[plan.application].name
        return [
            f'When {names[0]} sends the message file "{eml_name(promise_key, index)}" from "{app}" using the '
            f'"{plan.definition}" definition to {_names(names[1:])}',
            "Then every recipient gets what the source says for them",
        ]
    if step.kind == "malformed":
        return [
            f"# {f['names'][0]} sends a malformed message ({f['malformation']}), refused as docs/contract.md says: no step of the suite sends one"
        ]
    if step.kind == "unknown":
        who, whom = f["names"]
        return [
            f'When {who} sends a secure message from "Mimecast for Outlook" using the "{f["definition"]}" '
            f"definition to {whom}",
            "Then the message is refused with a clear error",
        ]
    if step.kind == "reply":
        verb = "replies to all" if f["reply_all"] else "replies"
        return [
            f'When {f["replier"]} {verb} from the "Secure Messaging Portal"',
            "Then every recipient gets what the source says for them",
        ]
    if step.kind == "open":
        who = f["who"]
        return [
            f"When {who} opens the message in the SM Portal",
            f"Then the SM Portal does not offer {who} printing",
            f"And {who}'s attempt to print the message is refused",
            f"And the SM Portal offered {who} to reply",
            f"And the SM Portal offered {who} to reply to all",
            f"And {f['sender']} receives no read receipt",
        ]
    if step.kind == "clock":  # then the latest message's external recipients try it again
        lines = [f"When the target's clock moves forward {f['days']} days"]
        for who in f.get("who", []):
            lines += [
                f"When {who} opens the message in the SM Portal",
                f"Then {who} can still read the message in the SM Portal",
                f"And the SM Portal does not offer {who} printing",
                f"And {who}'s attempt to print the message is refused",
                f"And the SM Portal offered {who} to reply",
                f"And the SM Portal offered {who} to reply to all",
            ]
        return lines
    if step.kind == "console":
        return [
            "When an administrator lists the definitions in the Administration Console",
            "Then exactly these definitions are listed: All, External",
            f'When an administrator tries to {f["action"]} the "{f["definition"]}" definition',
            "Then the Administration Console refuses the change",
            "And the definitions are unchanged",
        ]
    raise ValueError(f"unknown step {step.kind!r}")


def _people(steps: list[Step]) -> list[str]:
    lines: list[str] = []
    for step in steps:
        plans: list[AddressPlan] = []
        if step.kind in ("send", "raw"):
            plan = step.fields["plan"]
            plans = [plan.sender, *plan.to, *plan.cc, *plan.bcc]
        elif step.kind == "malformed":
            continue
        elif step.kind == "unknown":
            plans = list(step.fields["plans"])
        lines += [_person_line(n, p) for n, p in zip(step.fields.get("names", []), plans)]
    return lines


def feature_text(promise_key: str, steps: list[Step], seed: int) -> str:
    promise = P.promise(promise_key)
    requires = sorted({_REQUIRES[s.kind] for s in steps if _REQUIRES[s.kind]})
    if any(s.kind == "send" and s.fields["plan"].application != "mpp" for s in steps):
        requires.append("smtp-submission")
    if any(s.kind == "send" and s.fields["plan"].application == "mpp" for s in steps):
        requires.append("mpp")
    tags = ["@table:other", "@explored", *(f"@requires:{r}" for r in sorted(set(requires)))]
    if promise.level == "contract":
        tags.append("@contract")
    body = [
        " ".join(tags),
        f"Feature: Explored — {promise.key}",
        f"  {promise.words}",
        f"  Broken when: {promise.breaks}.",
    ]
    body += [f"  Found by exploration (seed {seed}) and shrunk to {len(steps)} step(s).", ""]
    body.append(f"  Scenario: {promise.key}: the smallest conversation found")
    people = _people(steps)
    body += [f"    {'Given' if i == 0 else 'And'} {line}" for i, line in enumerate(people)]
    if any(s.kind == "raw" for s in steps):
        body.append("    # the messages sent as written are the .eml files next to this feature")
    raws = 0
    for step in steps:
        raws += step.kind == "raw"
        body += [f"    {line}" for line in _action_lines(step, promise_key, raws)]
    return "\n".join(body) + "\n"


def _shell_address(plan: AddressPlan) -> str:
    """The address with ``$TAG`` in its local part, quoted for a POSIX shell (double quotes: $TAG expands)."""
    local = plan.local
    if local.startswith('"'):
        address = f'\\"{local[1:-1]}.$TAG\\"@{plan.domain}'
    else:
        address = f"{local}.$TAG@{plan.domain}"
    return '"' + address.replace("`", "\\`") + '"'


def simulate_commands(steps: list[Step], profile: TargetProfile) -> list[str]:
    target = f"--target {profile.source_path}" if profile.source_path else "--ephemeral"
    commands = ["TAG=$(date +%s%N)"]
    for step in steps:
        if step.kind != "send":
            continue
        plan = step.fields["plan"]
        line = f"smlite simulate {target} --app {plan.application} --definition '{plan.definition}'"
        line += f" --from {_shell_address(plan.sender)}"
        line += "".join(f" --to {_shell_address(p)}" for p in (*plan.to, *plan.bcc))
        line += "".join(f" --cc {_shell_address(p)}" for p in plan.cc)
        commands.append(line)
    return commands if len(commands) > 1 else []


def reproduction(promise_key: str, steps: list[Step], profile: TargetProfile, seed: int) -> tuple[str, list[str]]:
    """The Gherkin feature and the ``smlite simulate`` commands of a shrunk counterexample."""
    return feature_text(promise_key, steps, seed), simulate_commands(steps, profile)
