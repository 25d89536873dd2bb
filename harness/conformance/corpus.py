"""Owns: a corpus of the user's own mail in a run (``smlite run --corpus DIR``) — which files of DIR are
messages, their copy into the run's folder, and the feature files that send each of them as written
through the target, judged part by part like the real mail of features/ (harness/observation/wholeness.py).

A message file is one whose name ends ``.eml`` or ``.txt`` (RFC 5322 text; Outlook's binary ``.msg`` is
not one), hidden files and folders aside. Each valid message gives four scenarios — the All and the
External definition, to an internal recipient (table 3, rows 1 and 2: the Email with banner is the whole
message) and to an external one (table 1, row 1: a Notification, and where the target declares
sm-portal-whole-message, the whole message in the SM Portal). A broken one (``wholeness.malformed``)
gives one scenario that expects the contract's refusal with a reason (level contract: the source is
silent on broken mail). One with no text to recognise its copies by is not sent: it gets one scenario that
is not applicable, saying why, so that the verdict says the run was partial rather than leave it out.

The files are copied into ``<run>/corpus/mail/`` (folders 0700, files 0600: it is the user's mail), next
to the features, so the run keeps what it sent and ``smlite run --features <run>/corpus`` replays it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError
from harness.files import atomic_write_bytes
from harness.observation import wholeness
from harness.sandbox.private import make_private_folder, write_private

SUFFIXES = (".eml", ".txt")
DEFINITIONS = ("All", "External")


@dataclass
class Corpus:
    """What ``prepare`` found in the user's folder."""

    source: Path
    folder: Path  # <run>/corpus: the features and mail/
    valid: list[str] = field(default_factory=list)  # names under mail/, sent to both recipients
    broken: dict[str, str] = field(default_factory=dict)  # name -> why it is broken MIME
    unsent: dict[str, str] = field(default_factory=dict)  # name -> why it is not sent

    def summary(self) -> str:
        return (
            f"corpus {self.source}: {len(self.valid)} message(s) × {len(DEFINITIONS)} definitions × 2 recipients"
            f", {len(self.broken)} broken (expected refused), {len(self.unsent)} not sent"
        )


def message_files(source: Path) -> list[Path]:
    """The message files of ``source`` (a folder, searched through, or one file), in name order."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise UsageError("No such corpus", f"--corpus {source}: not a folder or a file")
    found = [
        p
        for p in sorted(source.rglob("*"))
        if p.is_file()
        and p.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(source).parts)
    ]
    if not found:
        raise UsageError("No message in the corpus", f"--corpus {source}: no *.eml or *.txt file")
    return found


def _cell(text: str) -> str:
    """A value for a Gherkin Examples table."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def prepare(source: Path, folder: Path, say: Callable[[str], None] = lambda _: None) -> Corpus:
    """Copy the messages of ``source`` into ``folder``/mail and write ``folder``'s feature files."""
    source = source.resolve()
    files = message_files(source)
    corpus = Corpus(source, folder)
    make_private_folder(folder)
    mail = folder / "mail"
    make_private_folder(mail)
    base = source.parent if source.is_file() else source
    for path in files:
        name = path.relative_to(base).as_posix()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UsageError("Cannot read a message of the corpus", f"{path}: {exc.strerror or exc}") from None
        target = mail / name
        for parent in reversed(target.relative_to(folder).parents):
            if parent != Path("."):
                make_private_folder(folder / parent)
        atomic_write_bytes(target, raw, mode=0o600)
        if why := wholeness.malformed(raw):
            corpus.broken[name] = why
        elif wholeness.marker_of(raw) is None:
            corpus.unsent[name] = "no text to recognise its copies by"
        else:
            corpus.valid.append(name)
    _write_features(corpus)
    say(corpus.summary())
    return corpus


def _header(tags: str, title: str, corpus: Corpus, lines: list[str]) -> list[str]:
    head = [tags, f"Feature: {title}", f"  Messages of {corpus.source}, sent as written (smlite run --corpus)."]
    return head + [f"  {line}" for line in lines]


def _write_features(corpus: Corpus) -> None:
    unsent = [f"Not sent: {name} ({why})." for name, why in corpus.unsent.items()]
    rows = [(name, d) for name in corpus.valid for d in DEFINITIONS]
    if rows:
        internal = _header(
            "@table:T3 @requires:smtp-submission @corpus",
            "Your mail between internal users — the Email with banner is the whole message",
            corpus,
            ["Every part of the original must arrive, with one banner where a reader looks first.", *unsent],
        )
        internal += [
            "",
            "  Scenario Outline: <ref> <file> from the corpus, with the <definition> definition, to an internal recipient",
            '    Given an internal user "Ines"',
            '    And an internal user "Ida"',
            '    When Ines sends the message file "<file>" from "Mimecast for Outlook" using the "<definition>" '
            "definition to Ida",
            "    Then every recipient gets what the source says for them",
            "",
            "    Examples:",
            "      | ref | file | definition |",
            *(f"      | {'T3-r1' if d == 'All' else 'T3-r2'} | {_cell(n)} | {d} |" for n, d in rows),
        ]
        external = _header(
            "@table:T1 @requires:smtp-submission @corpus",
            "Your mail to external recipients — a Notification, the whole message in the SM Portal",
            corpus,
            ["Where the target declares sm-portal-whole-message, its SM Portal shows every part and attachment."],
        )
        external += [
            "",
            "  Scenario Outline: <ref> <file> from the corpus, with the <definition> definition, to an external recipient",
            '    Given an internal user "Ines"',
            '    And an external user "Erik"',
            '    When Ines sends the message file "<file>" from "Mimecast for Outlook" using the "<definition>" '
            "definition to Erik",
            "    Then every recipient gets what the source says for them",
            "",
            "    Examples:",
            "      | ref | file | definition |",
            *(f"      | T1-r1 | {_cell(n)} | {d} |" for n, d in rows),
        ]
        write_private(corpus.folder / "corpus_internal.feature", "\n".join(internal) + "\n")
        write_private(corpus.folder / "corpus_external.feature", "\n".join(external) + "\n")
    if corpus.broken:
        broken = _header(
            "@table:other @requires:smtp-submission @corpus",
            "Your broken mail — refused with a reason",
            corpus,
            ["The source is silent on broken mail; docs/contract.md refuses it (554 5.6.0) with a reason."],
        )
        broken += [
            "",
            "  @contract",
            "  Scenario Outline: <file> from the corpus is broken MIME and is refused",
            '    Given an internal user "Ines"',
            '    And an external user "Erik"',
            '    When Ines sends the broken message file "<file>" from "Mimecast for Outlook" to Erik',
            "    Then the message is refused as broken mail",
            "",
            "    Examples:",
            "      | file | why |",
            *(f"      | {_cell(n)} | {_cell(why)} |" for n, why in corpus.broken.items()),
        ]
        write_private(corpus.folder / "corpus_broken.feature", "\n".join(broken) + "\n")
    if corpus.unsent:
        unfollowed = _header(
            "@table:other @corpus",
            "Your mail the suite cannot follow — not sent, not applicable",
            corpus,
            ["A message with no text: its copies cannot be told from a notification or another message by text."],
        )
        unfollowed += [
            "",
            "  Scenario Outline: <file> from the corpus carries no text to recognise its copies by",
            '    Given the message file "<file>", which carries no text to recognise its copies by',
            "",
            "    Examples:",
            "      | file |",
            *(f"      | {_cell(n)} |" for n in corpus.unsent),
        ]
        write_private(corpus.folder / "corpus_unsent.feature", "\n".join(unfollowed) + "\n")
    if not rows and not corpus.broken:
        shutil.rmtree(corpus.folder, ignore_errors=True)
        raise UsageError(
            "Nothing in the corpus can be sent", f"--corpus {corpus.source}: " + " ".join(unsent or ["no message"])
        )
