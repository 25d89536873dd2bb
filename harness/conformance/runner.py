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
import subprocess
import sys
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import SOURCE_DOCUMENT_ID
from harness import __version__
from harness.conformance import results as R
from harness.conformance.secrets import for_report
from harness.sandbox import procs
from harness.sandbox.private import private_tempdir
from harness.spec import source
from harness.errors import HarnessError, UsageError
from harness.target.open import choose_seed, open_target
from harness.target.profile import REQUIRED_BY_SOURCE, TargetProfile, load

REPO = Path(__file__).resolve().parents[2]
@dataclass
class RunOptions:
    target: str | None = None  # profile path; None = embedded reference sandbox
    variant: str = ""  # a broken variant of the embedded reference gateway
    select: str | None = None  # -k
    workers: int = 1  # -n
    seed: int | None = None
    certify: bool = False
    reports_dir: Path = REPO / "reports"
    report: bool = True
    quiet: bool = False
    exitfirst: bool = False
    extra_domains: list[str] = field(default_factory=list)
    reveal_secrets: bool = False  # keep tokens and passwords in the report (local debugging)


def _say(options: RunOptions, text: str) -> None:
    if options.quiet:
        return
    try:
        print(text, file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):  # the reader went away: stop talking, keep running
        options.quiet = True


def check_certify(options: RunOptions, profile: TargetProfile | None = None) -> None:
    """A certification run is the whole suite against a target able to do what the source requires."""
    if options.select:
        raise UsageError("A certification run runs every scenario", "--certify refuses -k; drop -k or --certify")
    if options.exitfirst:
        raise UsageError("A certification run runs every scenario", "--certify refuses -x; drop -x or --certify")
    if profile is None:
        return
    missing = [c for c in REQUIRED_BY_SOURCE if not profile.has(c)]
    if missing:
        raise UsageError("The target lacks capabilities the source requires",
                         f"--certify needs {', '.join(missing)} (the source requires "
                         f"{', '.join(REQUIRED_BY_SOURCE)}); declare them in the profile or drop --certify")


def profile_record(options: RunOptions, profile: TargetProfile, digest: str | None) -> dict:
    """What results.json keeps of the profile: where it came from, its digest, its settings (secrets masked)."""
    record = {"profile": options.target or "embedded reference sandbox", "profile_settings": profile.public_dict()}
    if digest:
        record["profile_sha256"] = digest
    return record


def pytest_command(options: RunOptions, profile_path: Path, results_path: Path, seed: int) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(REPO / "steps" / "test_conformance.py"),
               "-p", "harness.conformance.plugin", f"--rootdir={REPO}", "-c", str(REPO / "pyproject.toml"),
               f"--smlite-profile={profile_path}", f"--smlite-seed={seed}", f"--smlite-results={results_path}",
               "-p", "no:terminal", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning",
               # plugins are loaded by name (PYTEST_DISABLE_PLUGIN_AUTOLOAD, see run()): start-up is
               # otherwise spent importing every installed plugin (hypothesis, locust, ...)
               "-p", "pytest_bdd.plugin", "--assert=plain"]
    if not options.quiet:
        command.append("--smlite-progress")
    if options.reveal_secrets:
        command.append("--smlite-reveal-secrets")
    if options.workers > 1:
        command += ["-p", "xdist.plugin", "-n", str(options.workers)]
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
    seed = choose_seed(options.seed)
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)
    run_dir = options.reports_dir / run_id
    started_at = dt.datetime.now(dt.timezone.utc)
    _say(options, f"smlite {__version__} · run {run_id} · faker seed {seed} (replay with --seed {seed})")
    with open_target(options.target, variant=options.variant, internal_domains=options.extra_domains,
                     loaded=loaded, say=lambda text: _say(options, text)) as profile, \
         private_tempdir("smlite-run-") as private:
        if options.certify:
            check_certify(options, profile)
        target_info = describe_target(profile)
        run_dir.mkdir(parents=True, exist_ok=True)
        # for the suite's process, with its secrets: kept out of the report folder (results.json masks them)
        profile_path = profile.save_json(Path(private) / "profile.json")
        results_path = run_dir / "scenarios.jsonl"
        command = pytest_command(options, profile_path, results_path, seed)
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        completed = subprocess.run(command, cwd=REPO, env=env, **procs.tied_to_parent())
    handover = read_handover(results_path, completed.returncode)
    results_path.unlink(missing_ok=True)  # the plugin's raw hand-over; results.json is the documented form
    if handover.selected == [] and options.select:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise UsageError("Nothing to run", f"no scenario matches -k {options.select!r}; "
                         "see `smlite run --help` and the scenario names in features/")
    if handover.selected is None and not handover.scenarios:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise HarnessError("The suite did not run", f"pytest exited {completed.returncode} without results "
                           f"(command: {' '.join(command)})")
    finished_at = dt.datetime.now(dt.timezone.utc)
    run_info = R.RunInfo(
        id=run_id, target=target_info | profile_record(options, profile, digest), harness_version=__version__,
        source_document={"id": SOURCE_DOCUMENT_ID, "title": source.SOURCE_TITLE}, seed=seed,
        started_at=started_at.isoformat(timespec="seconds"), finished_at=finished_at.isoformat(timespec="seconds"),
        duration_s=round((finished_at - started_at).total_seconds(), 2), host=platform.node(),
        command=sys.argv, certify=options.certify, selection=options.select or "")
    scenarios = sorted(handover.scenarios.values(), key=lambda s: (source.table_sort_key(s.table), s.id))
    # one masked object for every file and the terminal (docs/report.md); --reveal-secrets keeps them
    results = for_report(R.RunResults(run_info, scenarios, handover.missing()), profile,
                                 reveal=options.reveal_secrets)
    index = write_report(results, run_dir, options) if options.report else run_dir / "results.json"
    if not options.report:
        results.save(index)
    return results.exit_code(), results, index


@dataclass
class Handover:
    """What the suite's process streamed (harness/conformance/plugin.py), read back after it ended."""

    selected: list[str] | None = None
    scenarios: dict[str, R.ScenarioResult] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)
    finished: int | None = None
    returncode: int = 0

    def missing(self) -> list[R.MissingScenario]:
        """Each selected scenario that never reported, with the best reason known."""
        if self.finished is None:
            ended = (f"the suite's process ended abruptly (exit {self.returncode})" if self.returncode >= 0
                     else f"the suite's process was killed by signal {-self.returncode}")
        else:
            ended = "the run was interrupted before it" if self.finished in (2, 3) else "it never reported"
        return [R.MissingScenario(scenario_id, scenario_id.rpartition("::")[2],
                                  self.lost.get(scenario_id, ended))
                for scenario_id in (self.selected or []) if scenario_id not in self.scenarios]


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
        elif "lost" in entry:
            handover.lost[entry["lost"]] = entry["reason"]
        elif "finished" in entry:
            handover.finished = entry["finished"]
    return handover


def describe_target(profile: TargetProfile) -> dict:
    from harness.drivers import load_driver

    driver = load_driver(profile)
    try:
        described = driver.describe()
    except OSError as exc:  # a driver on plain sockets
        raise HarnessError("Target unreachable", f"{profile.driver}: {exc}",
                           f"try `smlite target check {profile.source_path or 'PROFILE'}`") from None
    finally:
        driver.close()
    return {"name": described.get("name", profile.name), "version": described.get("version", profile.version),
            "driver": profile.driver, "capabilities": sorted(driver.capabilities)}


def write_report(results: R.RunResults, run_dir: Path, options: RunOptions) -> Path:
    from harness.report.render import update_latest, write_report as render

    started = time.perf_counter()
    index = render(results, run_dir)
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
    lines.append(f"{results.contract_line()} (choices of docs/contract.md, not of the source; "
                 "they never change the verdict)" if differences else results.contract_line())
    for cell in differences[:20]:
        where = f"{cell.ref} {cell.column} of {cell.recipient}" if cell.recipient else cell.ref
        lines.append(f"  contract: {where}: {(cell.observed or '').splitlines()[0][:160]}")
    failed = [s for s in results.scenarios if s.status in (R.FAILED, R.HARNESS_ERROR)]
    for scenario in failed:
        lines.append(f"  {scenario.status.upper()}: {scenario.name}")
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
        lines.append(f"  certification run: profile {results.run.target.get('profile')}, "
                     f"suite version {results.run.harness_version}")
    return "\n".join(lines)
