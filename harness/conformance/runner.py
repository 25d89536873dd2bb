"""`smlite run`: bring up a target, run the conformance suite, write the report.

The suite runs in a pytest subprocess (so pytest-xdist's ``-n`` works and a
crash in the suite cannot take the runner down); the plugin hands back one
result per scenario in a JSON file, which this module turns into the run's
``RunResults``, the report, and the exit code (0 conformant, 1 not
conformant, 2 usage or harness error).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import SOURCE_DOCUMENT_ID, __version__, policy
from harness import results as R
from harness.conformance import corpus, pictures_feed, run_evidence
from harness.conformance.options import RunOptions, check_certify, explores
from harness.connection.connect import connect
from harness.connection.opening import choose_seed, open_target
from harness.errors import HarnessError, UsageError
from harness.profile.schema import TargetProfile, load
from harness.profile.trust import unchecked_tls
from harness.results.masking import for_report
from harness.results.observations import RunObservations
from harness.sandbox import procs
from harness.sandbox.private import make_private_folder, make_tree_private, private_tempdir
from harness.source_model import source

REPO = Path(__file__).resolve().parents[2]


def _say(options: RunOptions, text: str) -> None:
    if options.quiet:
        return
    try:
        print(text, file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):  # the reader went away: stop talking, keep running
        options.quiet = True


def profile_record(options: RunOptions, profile: TargetProfile, digest: str | None) -> dict:
    """What results.json keeps of the profile: where it came from, its digest, its settings (secrets masked)."""
    record = {"profile": options.target or "embedded reference sandbox", "profile_settings": profile.public_dict()}
    if digest:
        record["profile_sha256"] = digest
    return record


def pytest_command(options: RunOptions, profile_path: Path, results_path: Path, seed: int) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "steps" / "test_conformance.py"),
        "-p",
        "harness.conformance.plugin",
        f"--rootdir={REPO}",
        "-c",
        str(REPO / "pyproject.toml"),
        f"--smlite-profile={profile_path}",
        f"--smlite-seed={seed}",
        f"--smlite-results={results_path}",
        "-p",
        "no:terminal",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        # plugins are loaded by name (PYTEST_DISABLE_PLUGIN_AUTOLOAD, see run()): start-up is
        # otherwise spent importing every installed plugin (hypothesis, locust, ...)
        "-p",
        "pytest_bdd.plugin",
        "--assert=plain",
    ]
    if not options.quiet:
        command.append("--smlite-progress")
    if options.reveal_secrets:
        command.append("--smlite-reveal-secrets")
    if options.workers > 1:
        command += ["-p", "xdist.plugin", "-n", str(options.workers)]
    if options.concurrency is not None:
        command.append(f"--smlite-concurrency={options.concurrency}")
    if options.engine != "concurrent":
        command.append(f"--smlite-engine={options.engine}")
    if options.select:
        command += ["-k", options.select]
    if options.exitfirst:
        command.append("-x")
    return command


def run(options: RunOptions) -> tuple[int, R.RunResults | None, Path]:
    loaded = load(options.target) if options.target else None
    digest = hashlib.sha256(Path(options.target).read_bytes()).hexdigest() if options.target else None
    if options.certify:
        check_certify(options, loaded)  # before anything starts
    if options.corpus:
        corpus.message_files(Path(options.corpus))  # a missing or empty corpus: said before anything starts
    seed = choose_seed(options.seed)
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)
    run_dir = options.reports_dir / run_id
    started_at = dt.datetime.now(dt.UTC)
    _say(options, f"smlite {__version__} · run {run_id} · faker seed {seed} (replay with --seed {seed})")
    with (
        open_target(
            options.target,
            variant=options.variant,
            internal_domains=options.extra_domains,
            loaded=loaded,
            say=lambda text: _say(options, text),
        ) as profile,
        private_tempdir("smlite-run-") as private,
    ):
        if options.certify:
            check_certify(options, profile)
        for notice in unchecked_tls(profile.to_dict()):  # said even with -q: it weakens every result
            print(f"smlite: WARNING: {notice}", file=sys.stderr, flush=True)
        target_info = describe_target(profile)
        make_private_folder(run_dir)  # 0700: the suite's hand-over holds unmasked tokens while it runs
        # for the suite's process, with its secrets: kept out of the report folder (results.json masks them)
        profile_path = profile.save_json(Path(private) / "profile.json")
        results_path = run_dir / "scenarios.jsonl"
        command = pytest_command(options, profile_path, results_path, seed)
        env = dict(
            os.environ,
            PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        )
        if options.features:
            env["SMLITE_FEATURES"] = str(Path(options.features).resolve())
        if options.corpus:
            prepared = corpus.prepare(Path(options.corpus), run_dir / "corpus", lambda text: _say(options, text))
            env["SMLITE_CORPUS"] = str(prepared.folder)
        feed = pictures_feed.start(results_path, run_dir, profile, options.reveal_secrets) if options.pictures else None
        completed = subprocess.run(command, cwd=REPO, env=env, **procs.tied_to_parent())
        handover = read_handover(results_path, completed.returncode)
        explorations = []
        broken_run = handover.missing() or any(s.status == R.HARNESS_ERROR for s in handover.scenarios.values())
        if explores(options) and options.explorer is not None and not broken_run:  # an incomplete run: no use
            wall = (dt.datetime.now(dt.UTC) - started_at).total_seconds()
            _say(options, f"exploring the source's promises on generated conversations (seed {seed}) …")
            explored = run_dir / "explored"
            limit = options.explore_conversations
            explorations.append(options.explorer(profile, seed, options.explore_budget, wall, explored, limit))
    pictures = feed.finish() if feed is not None else {}
    results_path.unlink(missing_ok=True)  # the plugin's raw hand-over; results.json is the documented form
    if handover.selected == [] and options.select:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise UsageError(
            "Nothing to run",
            f"no scenario matches -k {options.select!r}; see `smlite run --help` and the scenario names in features/",
        )
    if handover.selected is None and not handover.scenarios:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise HarnessError(
            "The suite did not run",
            f"pytest exited {completed.returncode} without results (command: {' '.join(command)})",
        )
    finished_at = dt.datetime.now(dt.UTC)
    run_info = R.RunInfo(
        id=run_id,
        target=target_info | profile_record(options, profile, digest),
        harness_version=__version__,
        source_document={"id": SOURCE_DOCUMENT_ID, "title": source.SOURCE_TITLE},
        seed=seed,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=finished_at.isoformat(timespec="seconds"),
        duration_s=round((finished_at - started_at).total_seconds(), 2),
        host=platform.node(),
        command=sys.argv,
        certify=options.certify,
        selection=options.select or "",
        secrets_revealed=options.reveal_secrets,
    )
    scenarios = sorted(handover.scenarios.values(), key=lambda s: (source.table_sort_key(s.table), s.id))
    # one masked object for every file and the terminal (docs/report.md); --reveal-secrets keeps them
    results = for_report(
        R.RunResults(run_info, scenarios, handover.missing(), explorations=explorations),
        profile,
        reveal=options.reveal_secrets,
    )
    if feed is not None:
        named = pictures_feed.name_pictures(results, pictures, run_dir)
        _say(options, f"pictures: {named}" + (f" (none: {feed.painter.problem})" if feed.painter.problem else ""))
    index = write_report(results, run_dir, options) if options.report else run_dir / "results.json"
    if not options.report:
        results.save(index)
    for line in run_evidence.write(results, handover.observations, run_dir, options, profile, handover.selected):
        _say(options, line)
    return results.exit_code(), results, index


@dataclass
class Handover:
    """What the suite's process streamed (harness/conformance/plugin.py), read back after it ended."""

    selected: list[str] | None = None
    scenarios: dict[str, R.ScenarioResult] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)
    finished: int | None = None
    returncode: int = 0
    observations: RunObservations = field(default_factory=RunObservations)

    def missing(self) -> list[R.MissingScenario]:
        """Each selected scenario that never reported, with the best reason known."""
        if self.finished is None:
            ended = (
                f"the suite's process ended abruptly (exit {self.returncode})"
                if self.returncode >= 0
                else f"the suite's process was killed by signal {-self.returncode}"
            )
        else:
            ended = "the run was interrupted before it" if self.finished in (2, 3) else "it never reported"
        return [
            R.MissingScenario(scenario_id, scenario_id.rpartition("::")[2], self.lost.get(scenario_id, ended))
            for scenario_id in (self.selected or [])
            if scenario_id not in self.scenarios
        ]


def read_handover(path: Path, returncode: int) -> Handover:
    handover = Handover(returncode=returncode)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return handover
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed process
        if "selected" in entry:
            handover.selected = list(entry["selected"])
        elif "scenario" in entry:
            scenario = R.ScenarioResult.from_dict(entry["scenario"])
            handover.scenarios[scenario.id] = scenario
            handover.observations.add(scenario.id, entry.get("observations") or {})
        elif "lost" in entry:
            handover.lost[entry["lost"]] = entry["reason"]
        elif "finished" in entry:
            handover.finished = entry["finished"]
    return handover


def describe_target(profile: TargetProfile) -> dict:
    """The target as results.json records it: name, version, driver, capabilities (it must answer)."""
    with connect(profile, mailbox=False) as connection:
        return connection.describe()


def write_report(results: R.RunResults, run_dir: Path, options: RunOptions) -> Path:
    from harness.report.render import update_latest
    from harness.report.render import write_report as render

    started = time.perf_counter()
    index = render(results, run_dir)
    make_tree_private(run_dir)  # evidence is mail, and with --reveal-secrets tokens: owner only (0600)
    if results.complete:  # an incomplete run keeps its report, but `latest` never points at it
        update_latest(options.reports_dir, run_dir)
    _say(options, f"report written in {time.perf_counter() - started:.2f}s: {index}")
    return index


def summary(results: R.RunResults) -> str:
    lines = ["", f"{'table':<12} {'scenarios':>9}  " + "  ".join(f"{s:>14}" for s in R.STATUSES)]
    per_table = results.per_table()
    for table in sorted(per_table, key=source.table_sort_key):
        counts = per_table[table]
        lines.append(f"{table:<12} {sum(counts.values()):>9}  " + "  ".join(f"{counts[s]:>14}" for s in R.STATUSES))
    counts = results.counts()
    lines.append(f"{'all':<12} {sum(counts.values()):>9}  " + "  ".join(f"{counts[s]:>14}" for s in R.STATUSES))
    lines.append(f"\nverdict: {results.verdict()}  (seed {results.run.seed}, {results.run.duration_s:.1f}s)")
    differences = results.contract_differences()
    lines.append(f"{results.contract_line()} ({policy.CONTRACT_NOTE})" if differences else results.contract_line())
    for cell in differences[:20]:
        where = f"{cell.ref} {cell.column} of {cell.recipient}" if cell.recipient else cell.ref
        lines.append(f"  contract: {where}: {(cell.observed or '').splitlines()[0][:160]}")
    for explored in results.explorations:
        lines.append(
            f"explored: {explored.exchanges} exchanges, {len(explored.promises_checked)} promises checked in "
            f"{explored.elapsed_s:.1f}s (budget {explored.budget_s:g}s, seed {explored.seed})"
        )
        lines += [f"  {c.level.upper()}: {c.promise} — {c.detail[:160]}" for c in explored.counterexamples]
        lines += [f"  INCOMPLETE: exploration stopped: {explored.error}"] if explored.error else []
    failed = [s for s in results.scenarios if s.fails() or s.status == R.HARNESS_ERROR]
    for scenario in failed:
        why = (scenario.message or "").strip().splitlines()[:1]
        lines.append(f"  {scenario.status.upper()}: {scenario.name}" + (f" — {why[0][:200]}" if why else ""))
    if results.missing:
        lines.append(f"  INCOMPLETE: {len(results.missing)} selected scenario(s) never reported:")
        for gone in results.missing:
            lines.append(f"    {gone.id}  ({gone.reason})")
    not_applicable = [s for s in results.scenarios if s.status == R.NOT_APPLICABLE]
    if not_applicable:
        lines.append(f"  not applicable ({len(not_applicable)}):")
        for scenario in not_applicable:
            reason = scenario.message.removeprefix("not applicable: ")
            lines.append(f"    n/a  {scenario.name}" + (f"  ({reason})" if reason else ""))
    if results.run.certify:
        lines.append(
            f"  certification run: profile {results.run.target.get('profile')}, "
            f"suite version {results.run.harness_version}"
        )
    return "\n".join(lines)
