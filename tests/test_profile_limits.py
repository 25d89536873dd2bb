"""Hostile profiles: `smlite target check PROFILE` (a real subprocess) answers one line, exit 2, no traceback.

Nesting 3,000 levels in TOML and 100,000 in JSON used to end in a RecursionError
traceback; a 10 MB value was echoed whole to stderr. Now: a size limit before
reading, a bracket-depth scan before parsing, a depth check after (dotted keys
nest without brackets), and every echoed value cut to 80 characters.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.profile import fields, reading
from harness.profile import schema as P

REPO = Path(__file__).resolve().parent.parent
MAILPIT = '[mailpit]\napi = "http://127.0.0.1:8025"\n'


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "target", "check", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


HOSTILE = {
    "toml-arrays-3000.toml": 'name = "t"\nx = ' + "[" * 3000 + "]" * 3000 + "\n" + MAILPIT,
    "toml-inline-tables-3000.toml": 'name = "t"\nx = ' + "{a = " * 3000 + "1" + "}" * 3000 + "\n" + MAILPIT,
    "toml-dotted-keys-3000.toml": 'name = "t"\n[target]\n' + ".".join(["a"] * 3000) + " = 1\n" + MAILPIT,
    "toml-table-header-3000.toml": 'name = "t"\n' + MAILPIT + "[" + ".".join(["a"] * 3000) + "]\nb = 1\n",
    "json-100000.json": '{"name": "t", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "json-objects-100000.json": '{"name": "t", "x": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}",
    "name-10mb.toml": 'name = "t"\nversion = "' + "v" * 10_000_000 + '"\n' + MAILPIT,
    "value-900kb.toml": 'name = "t"\nversion = ' + '"' + "v" * 900_000 + '"\ndriver = 5\n' + MAILPIT,
    "key-900kb.toml": '"' + "k" * 900_000 + '" = 1\nname = "t"\n' + MAILPIT,
    "many-keys.toml": 'name = "t"\n' + "".join(f"unknown{i} = 1\n" for i in range(20_000)) + MAILPIT,
    "domain-900kb.toml": 'name = "t"\ninternal_domains = ["' + "a" * 900_000 + '"]\n' + MAILPIT,
    "not-utf8.toml": b'name = "\xff\xfe"\n',
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_profile_is_one_short_line_and_exit_2(tmp_path, name):
    path = tmp_path / name
    content = HOSTILE[name]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = check(path)
    assert result.returncode == 2, result.stdout[-500:] + result.stderr[-500:]
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "RecursionError" not in output
    assert len(result.stderr.encode()) < 1024 and len(result.stdout.encode()) < 1024, (
        len(result.stderr),
        len(result.stdout),
    )
    invalid = [line for line in result.stdout.splitlines() if "invalid" in line]
    assert len(invalid) == 1, result.stdout  # `target check` reports the profile as one item


def test_errors_name_the_limit(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text(HOSTILE["json-100000.json"])
    assert "nested too deeply" in check(deep).stdout
    big = tmp_path / "big.toml"
    big.write_text(HOSTILE["name-10mb.toml"])
    assert "too large" in check(big).stdout
    value = tmp_path / "value.toml"
    value.write_text(HOSTILE["value-900kb.toml"])
    with pytest.raises(P.UsageError) as caught:
        P.load(value)
    assert "driver" in str(caught.value) and len(str(caught.value)) < 600


def test_bracket_depth_skips_strings_and_comments():
    text = (
        'a = "[[[[{{{{" # [[[[[[[\nb = \'[[[[\'\nc = """\n[[[[ \\""" ]]"""\nd = \'\'\'[[[[\'\'\'\n'
        'e = [[1, 2], {x = "]"}]\n'
    )
    assert reading.bracket_depth(text, toml=True) == 2
    assert reading.bracket_depth('{"a": "[[[\\"[[", "b": [[{}]]}', toml=False) == 4
    assert reading.bracket_depth("[" * 10_000, toml=False, stop_at=33) == 33


def test_value_depth_is_iterative():
    value: list = []
    for _ in range(50_000):
        value = [value]
    assert reading.value_depth(value, stop_at=40) == 40
    assert reading.value_depth({"a": {"b": [1, {"c": 2}]}}) == 4


def test_a_normal_profile_still_loads(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text((REPO / "examples" / "vendor-profile.toml").read_text())
    assert P.load(path).name == "Acme SecureMail"


def test_shown_cuts_long_values():
    assert fields.shown("x" * 10) == repr("x" * 10)
    cut = fields.shown("x" * 10_000_000)
    assert len(cut) < 120 and cut.endswith("(10000002 chars)")
