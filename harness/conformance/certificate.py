"""The certificate bundle of ``smlite run --certify``: the evidence itself, so that anyone can judge it again.

Owns ``write_bundle`` (one zip file, ``certificate.zip`` in the run's folder) and ``read_bundle`` (a zip, or
the folder it was unpacked into, read into memory with bounds), and ``suite_identity`` (the suite's version
and the sha256 of what it judges by). The bundle holds:

* ``results.json`` — the run's results, masked as in the report (the claim: ``summary.verdict``);
* ``observations.json`` — per scenario, every call of the suite's judge: the expected cells, what each
  column showed, which cells it gave (harness/results/observations.py);
* ``messages/<sha256>.eml`` (a delivered message) and ``messages/<sha256>.json`` (an MPP item), as
  delivered: re-classifying them needs every byte. Their SM Portal links carry the tokens of the run's
  test messages; any secret of the profile found in them is overwritten with ``*`` of the same length;
* ``profile.json`` — the profile without secrets (``TargetProfile.public_dict``);
* ``suite.json`` — the suite's version, the sha256 of features/ and of the source page, the scenarios
  the suite has, the selection the run made;
* ``SHA256SUMS`` — the sha256 of every other file, in ``sha256sum -c`` form.

A zip rather than a folder: one file to hand to a customer and to attach to a ticket, unpacked by any
system's tools, and read by ``smlite verify`` without unpacking (nothing written, no path to escape).
Hand-written with ``zipfile`` and ``hashlib``: there is no well-kept library for such a manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from harness import __version__
from harness.errors import UsageError
from harness.files import atomic_write_bytes
from harness.results.masking import Masker
from harness.results.observations import RunObservations

REPO = Path(__file__).resolve().parents[2]
SOURCE_PAGE = REPO / "harness" / "report" / "source" / "000_99618b2f85010427.txt"
BUNDLE_NAME = "certificate.zip"
MANIFEST = "SHA256SUMS"
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 20_000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def suite_identity() -> dict[str, Any]:
    """The suite's version and the sha256 of what it judges by: every feature file and the source page."""
    files = {str(p.relative_to(REPO)): sha256(p.read_bytes()) for p in sorted((REPO / "features").glob("*.feature"))}
    files[str(SOURCE_PAGE.relative_to(REPO))] = sha256(SOURCE_PAGE.read_bytes())
    combined = "".join(f"{digest}  {path}\n" for path, digest in sorted(files.items()))
    return {"suite": "smlite", "version": __version__, "source_sha256": sha256(combined.encode()), "files": files}


def _scrub(raw: bytes, literals: list[str]) -> bytes:
    """``raw`` with each literal secret overwritten by ``*`` of the same length (the message keeps its shape)."""
    for literal in literals:
        encoded = literal.encode("utf-8")
        if encoded and encoded in raw:
            raw = raw.replace(encoded, b"*" * len(encoded))
    return raw


def write_bundle(run_dir: Path, results: Any, observations: RunObservations, profile: Any, selected: list[str]) -> Path:
    """Write ``run_dir/certificate.zip`` for a certification run; return its path."""
    masker = Masker.from_profile(profile)
    files: dict[str, bytes] = {"results.json": json.dumps(results.to_dict(), indent=2, ensure_ascii=False).encode()}
    records = {
        scenario_id: [masker.mask(r.to_dict()) for r in found] for scenario_id, found in observations.scenarios.items()
    }
    files["observations.json"] = json.dumps(records, indent=1, ensure_ascii=False).encode()
    for digest, raw in sorted(observations.messages.items()):
        suffix = "json" if raw.lstrip()[:1] == b"{" else "eml"
        files[f"messages/{digest}.{suffix}"] = _scrub(raw, masker.literals)
    files["profile.json"] = json.dumps(profile.public_dict(), indent=2, ensure_ascii=False).encode()
    files["suite.json"] = json.dumps(suite_identity() | {"selected": selected}, indent=2).encode()
    files[MANIFEST] = "".join(f"{sha256(data)}  {name}\n" for name, data in sorted(files.items())).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return atomic_write_bytes(run_dir / BUNDLE_NAME, buffer.getvalue(), mode=0o600)


@dataclass
class Bundle:
    """A bundle's files, by name, as read."""

    where: str
    files: dict[str, bytes] = field(default_factory=dict)

    def json(self, name: str) -> Any:
        if name not in self.files:
            raise UsageError("Not a certificate bundle", f"{self.where} has no {name}")
        try:
            return json.loads(self.files[name].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise UsageError("Not a certificate bundle", f"{self.where}: {name} is not JSON ({exc})") from None


def _plain(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def read_bundle(path: Path) -> Bundle:
    """A bundle (zip, or the folder it was unpacked into), bounded; ``UsageError`` for anything unusable."""
    bundle = Bundle(str(path))
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            bundle.files[file.relative_to(path).as_posix()] = file.read_bytes()
            if len(bundle.files) > MAX_ENTRIES or sum(map(len, bundle.files.values())) > MAX_BUNDLE_BYTES:
                raise UsageError("Certificate bundle too large", f"{path}: over {MAX_ENTRIES} files or 512 MB")
        return bundle
    if not path.is_file():
        raise UsageError("No such certificate bundle", f"{path}: no such file or folder")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [i for i in archive.infolist() if not i.is_dir()]
            if len(entries) > MAX_ENTRIES or sum(i.file_size for i in entries) > MAX_BUNDLE_BYTES:
                raise UsageError("Certificate bundle too large", f"{path}: over {MAX_ENTRIES} files or 512 MB")
            for info in entries:
                if not _plain(info.filename):
                    raise UsageError("Not a certificate bundle", f"{path}: entry {info.filename!r} is not a plain path")
                bundle.files[info.filename] = archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise UsageError("Not a certificate bundle", f"{path}: not a readable zip file ({exc})") from None
    return bundle


def checksum_problems(bundle: Bundle) -> list[str]:
    """Every file whose sha256 differs from the manifest, is not in it, or is missing."""
    if MANIFEST not in bundle.files:
        raise UsageError("Not a certificate bundle", f"{bundle.where} has no {MANIFEST}")
    listed: dict[str, str] = {}
    for line in bundle.files[MANIFEST].decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            listed[name] = digest.strip()
    problems = [f"{name}: listed in {MANIFEST} but absent" for name in sorted(set(listed) - set(bundle.files))]
    for name, data in sorted(bundle.files.items()):
        if name == MANIFEST:
            continue
        if name not in listed:
            problems.append(f"{name}: not listed in {MANIFEST}")
        elif sha256(data) != listed[name]:
            problems.append(f"{name}: sha256 differs from {MANIFEST}")
    for name, data in bundle.files.items():
        stem = PurePosixPath(name).stem
        if name.startswith("messages/") and sha256(data) != stem:
            problems.append(f"{name}: the message's sha256 is not its name")
    return problems
