"""The pictures section of index.html: what the recipients saw, as thumbnails inside the page.

Owns ``gallery(results, run_dir)``: every picture the results name (``evidence.data["picture"]``, a JPEG
in the run's folder, made by harness/report/pictures.py), failed scenarios first, as ``data:`` URIs so the
page stays one file, within ``MAX_SHOWN`` pictures and ``MAX_BYTES`` of images in all (the rest stay in the
run's ``pictures/`` folder and the page says how many). Each links to the evidence it shows. A path that
leaves the run's folder, or a file that is not a JPEG, is left out.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from harness import results as R
from harness.report import anchors as A
from harness.report.viewtypes import slug

MAX_SHOWN = 24  # as many as one run makes (harness/report/pictures.py's MAX_PICTURES)
MAX_BYTES = 1_200_000  # of JPEG; the page grows by 4/3 of it (base64)
_JPEG = b"\xff\xd8\xff"


@dataclass
class PictureView:
    src: str  # data:image/jpeg;base64,...
    caption: str
    anchor: str  # the picture's own anchor
    evidence_anchor: str
    status: str


@dataclass
class Gallery:
    pictures: list[PictureView]
    left_out: int = 0
    bytes: int = 0
    max_shown: int = MAX_SHOWN
    max_kb: int = MAX_BYTES // 1000


def gallery(results: R.RunResults, run_dir: Path | None) -> Gallery:
    if run_dir is None:
        return Gallery([])
    root = run_dir.resolve()
    found = []
    for scenario, anchor in zip(results.scenarios, A.scenario_anchors(results.scenarios), strict=True):
        for evidence in scenario.evidence:
            name = evidence.data.get("picture") if isinstance(evidence.data, dict) else None
            if isinstance(name, str) and name:
                cell = next((c for c in scenario.cells if evidence.id in c.evidence), None)
                found.append((scenario, anchor, evidence, name, cell))
    found.sort(key=lambda item: 0 if item[0].fails() or item[0].status == R.HARNESS_ERROR else 1)
    shown = Gallery([])
    for scenario, anchor, evidence, name, cell in found:
        path = (root / name).resolve()
        try:
            data = path.read_bytes() if path.is_relative_to(root) else b""
        except OSError:
            data = b""
        if not data.startswith(_JPEG) or len(shown.pictures) >= MAX_SHOWN or shown.bytes + len(data) > MAX_BYTES:
            shown.left_out += 1
            continue
        shown.bytes += len(data)
        where = f"{cell.ref} · {cell.column} · {cell.observed}" if cell is not None else evidence.title
        evidence_anchor = f"{anchor}-ev-{slug(evidence.id)}"
        shown.pictures.append(
            PictureView(
                "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii"),
                f"{where} — {evidence.title}",
                f"pic-{evidence_anchor}",
                evidence_anchor,
                scenario.status,
            )
        )
    return shown
