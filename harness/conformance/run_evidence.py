"""What a run leaves beside its report: Allure results (``--allure``) and the certificate bundle (``--certify``).

Owns ``write``: called by ``smlite run`` (harness/conformance/runner.py) once the report is written, with the
masked results and the observations the suite recorded; returns the lines to say. Allure's ``.eml``
attachments are masked with the profile's secrets as the report is (unless ``--reveal-secrets``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import results as R
from harness.results.masking import Masker
from harness.results.observations import RunObservations
from harness.sandbox.private import make_tree_private


def write(
    results: R.RunResults,
    observations: RunObservations,
    run_dir: Path,
    options: Any,
    profile: Any,
    selected: list[str] | None,
    pictures: dict[str, Path] | None = None,
) -> list[str]:
    said = []
    if options.allure is not None:
        from harness.report.allure import write_allure

        started = time.perf_counter()
        folder = run_dir / "allure-results" if options.allure == "" else Path(options.allure)
        mask = (lambda text: text) if options.reveal_secrets else Masker.from_profile(profile).text
        files, size = write_allure(results, observations, folder, mask, pictures)
        if folder.resolve().is_relative_to(run_dir.resolve()):
            make_tree_private(folder)  # like the rest of the run's folder (0700 / 0600)
        said.append(
            f"Allure results: {folder} ({files} files, {size / 1024:.0f} KB, {time.perf_counter() - started:.2f}s); "
            f"report with: allure generate {folder}"
        )
    if options.certify:
        from harness.conformance.certificate import write_bundle

        bundle = write_bundle(run_dir, results, observations, profile, list(selected or []))
        said.append(
            f"certificate bundle: {bundle} ({bundle.stat().st_size / 1024:.0f} KB); check it with: smlite verify {bundle}"
        )
    return said
