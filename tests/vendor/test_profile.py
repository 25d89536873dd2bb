"""Target profiles and drivers, without a target: every field validated with a clear error, examples load.

A bad profile must be one line naming the field and exit 2 from the CLI, never
a traceback; the examples in examples/ must load as they are; the rules
generated for a gateway configuration must recognise what that gateway sends.
"""

from __future__ import annotations

import re

import pytest

from harness.drivers import driver_class, load_driver
from harness.errors import UsageError
from harness.observation.recognition import NOTIFICATION, Rules, classify
from harness.profile.schema import (
    CAPABILITIES,
    DEFAULT_CAPABILITIES,
    from_dict,
    gateway_settings_file,
    load,
    rules_for_gateway,
    starter_profile,
    subject_pattern,
    to_toml,
)

from .vendorkit import EXAMPLES, smlite

MAILPIT = {"api": "http://127.0.0.1:8025"}
GOOD = {
    "name": "Acme",
    "mailpit": MAILPIT,
    "target": {"http": "http://127.0.0.1:1", "smtp": "127.0.0.1:2", "admin_token": "t"},
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": ""}, "'name' (the target's name, a string) is required"),
        ({"name": None}, "'name'"),
        ({"version": 4}, "'version' must be a string"),
        ({"driver": ""}, "'driver' must not be empty"),
        ({"internal_domains": "acme.test"}, "'internal_domains' must be a list of strings"),
        ({"internal_domains": []}, "'internal_domains' must not be empty"),
        ({"internal_domains": ["acme"]}, "'acme' is not a domain name"),
        ({"external_domains": ["example.net", "not a domain"]}, "'not a domain' is not a domain name"),
        ({"internal_domains": ["example.net"]}, "example.net cannot be both internal and external"),
        ({"capabilities": []}, "'capabilities' must not be empty"),
        ({"capabilities": ["mpp", "fax"]}, "unknown capability 'fax'; known: smtp-submission"),
        ({"target": "http://x"}, "[target] must be a table"),
        ({"mailpit": None}, "[mailpit] must be a table"),
        ({"mailpit": {}}, "[mailpit] needs 'api'"),
        ({"mailpit": {"api": "localhost:8025"}}, "mailpit.api must be an http(s) URL"),
        ({"mailpit": {"api": "http://x:1", "smtp": "x"}}, "mailpit.smtp must read host:port"),
        ({"mailpit": {"api": "http://x:1", "ui": "x"}}, "[mailpit] has unknown keys ui"),
        ({"delivery_timeout_s": 0}, "'delivery_timeout_s' must be a number of seconds"),
        ({"delivery_timeout_s": "15"}, "'delivery_timeout_s' must be a number of seconds"),
        ({"classification": "x"}, "[classification] must be a table"),
        ({"classification": {"banner": "x"}}, "[classification] has unknown keys banner"),
        ({"classification": {"banner_text": 3}}, "classification.banner_text must be a string"),
        ({"classification": {"banner_text": " "}}, "classification.banner_text must not be empty"),
        ({"classification": {"banner_window": True}}, "classification.banner_window must be an integer"),
        ({"classification": {"banner_window": 0}}, "banner_window must be at least 1"),
        ({"classification": {"notification_subject": "(["}}, "not a valid regular expression"),
        ({"classification": {"private_marker": "Private"}}, "must read 'Header: value'"),
        ({"source_path": "/x"}, "unknown keys source_path"),
        ({"colour": "blue"}, "unknown keys colour; known: capabilities, classification"),
    ],
)
def test_every_field_is_validated_with_a_message_naming_it(change, message):
    with pytest.raises(UsageError) as caught:
        from_dict(GOOD | change, "acme.toml")
    assert caught.value.title == "Bad target profile"
    assert message in str(caught.value) and "acme.toml" in str(caught.value)


def test_a_valid_profile_is_normalised():
    profile = from_dict(
        GOOD
        | {
            "internal_domains": ["Acme.TEST", "acme.test", "acme-eu.test"],
            "capabilities": ["mpp", "mpp", "sm-portal"],
            "delivery_timeout_s": 5,
        }
    )
    assert profile.internal_domains == ["acme.test", "acme-eu.test"]
    assert profile.capabilities == ["mpp", "sm-portal"] and profile.delivery_timeout_s == 5.0
    assert from_dict(GOOD).capabilities == list(DEFAULT_CAPABILITIES)  # the first contract's six, unchanged


def test_the_annotated_examples_load_as_they_are():
    vendor = load(EXAMPLES / "vendor-profile.toml")
    assert vendor.internal_domains == ["acme.test", "acme-eu.test"] and vendor.target["timeout_s"] == 10
    assert re.search(vendor.classification.portal_link, "see https://p.example/sm-portal/m/" + "A" * 32)
    assert vendor.source_path == str((EXAMPLES / "vendor-profile.toml").resolve())
    example = load(EXAMPLES / "example-driver-profile.toml")
    assert example.driver == "examples.example_driver:ExampleDriver"
    assert type(load_driver(example)).__name__ == "ExampleDriver"


def test_the_annotated_example_documents_every_field():
    text = (EXAMPLES / "vendor-profile.toml").read_text(encoding="utf-8")
    for key in (
        "name",
        "version",
        "driver",
        "internal_domains",
        "external_domains",
        "capabilities",
        "delivery_timeout_s",
        "[target]",
        "[mailpit]",
        "[classification]",
        *CAPABILITIES,
        *Rules.__dataclass_fields__,
        "http",
        "smtp",
        "admin_token",
        "timeout_s",
        "api",
    ):
        found = re.search(
            rf"^(.*\n)?\s*(#\s*)?\"?{re.escape(key)}(?![\w-]).*$", text, re.M
        )  # an opt-in key may be commented out
        assert found and "#" in found.group(0), f"{key}: no comment on its line or the line above"


def test_a_profile_written_as_toml_reads_back_the_same(tmp_path):
    profile = from_dict(
        GOOD | {"classification": {"banner_text": 'He said "secure" \\o/', "notification_subject": r"^\[x\] .*"}}
    )
    path = tmp_path / "p.toml"
    path.write_text(to_toml(profile, "a comment\non two lines"), encoding="utf-8")
    again = load(path)
    assert again.to_dict() | {"source_path": ""} == profile.to_dict()
    starter = tmp_path / "starter.toml"
    starter.write_text(to_toml(starter_profile({"mailpit_api": "http://127.0.0.1:9", "mailpit_smtp": ("h", 2)})))
    assert load(starter).mailpit == {"api": "http://127.0.0.1:9", "smtp": "h:2"}


@pytest.mark.parametrize(
    "template",
    [
        "Secure message from {sender}: {subject}",
        "[Acme secure] {subject} (from {sender})",
        "{subject} — encrypted by a.b*c {{literal}}",
        "(secure) {sender}",
    ],
)
def test_rules_for_a_gateway_configuration_recognise_its_notifications(template):
    rules = rules_for_gateway({"banner_text": "[ACME]", "notification_subject": template})
    subject = template.format(sender="ann@acme.test", subject="Q3 (draft) [v2] $5*")
    link = "http://h:1/sm-portal/m/" + "x" * 32
    assert classify(subject, f"open {link}", "", {"Sensitivity": "Private"}, rules).kind == NOTIFICATION
    assert not re.search(subject_pattern(template), "Re: " + subject) or template.startswith("{")
    assert rules.banner_text == "[ACME]"
    assert rules_for_gateway({}) == Rules()


def test_gateway_settings_owned_by_the_sandbox_are_refused(tmp_path):
    settings = tmp_path / "gw.toml"
    settings.write_text('internal_domains = ["a.test"]\nrelay_port = 25\ndatabase = "x"\n')
    with pytest.raises(UsageError, match="the sandbox sets database, relay_port itself"):
        gateway_settings_file(settings)
    settings.write_text("internal_domains = [")
    with pytest.raises(UsageError, match="not valid TOML"):
        gateway_settings_file(settings)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nosuch", "Unknown driver: 'nosuch'; installed: reference"),
        ("nosuch_module_xyz:Driver", "Cannot load driver"),
        ("examples.example_driver:Nope", "module 'examples.example_driver' has no 'Nope'"),
        ("harness.profile.schema:TargetProfile", "is not a subclass of harness.drivers.Driver"),
    ],
)
def test_driver_specs_that_do_not_name_a_driver_are_usage_errors(spec, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        driver_class(spec)


def test_a_driver_module_next_to_the_profile_is_found(tmp_path):
    (tmp_path / "my_vendor_driver.py").write_text(
        "from examples.example_driver import ExampleDriver\n"
        "class Partial(ExampleDriver):\n    supported = frozenset({'smtp-submission', 'sm-portal'})\n"
        "class Broken(ExampleDriver):\n    def __init__(self, profile):\n        raise RuntimeError('no licence')\n"
    )
    base = (
        'name = "v"\n[mailpit]\napi = "http://127.0.0.1:9"\n[target]\napi_url = "http://x:1"\n'
        'smtp_host = "x"\nsmtp_port = 2\napi_key = "k"\n'
    )
    path = tmp_path / "v.toml"
    path.write_text('driver = "my_vendor_driver:Partial"\ncapabilities = ["smtp-submission"]\n' + base)
    assert load_driver(load(path)).capabilities == {"smtp-submission"}
    path.write_text('driver = "my_vendor_driver:Partial"\n' + base)
    with pytest.raises(
        UsageError,
        match="capabilities mpp, admin-console, clock, sm-portal-index are declared "
        "but driver 'my_vendor_driver:Partial' does not support them",
    ):
        load_driver(load(path))
    path.write_text('driver = "my_vendor_driver:Broken"\n' + base)
    with pytest.raises(UsageError, match="Cannot start driver: my_vendor_driver:Broken: RuntimeError: no licence"):
        load_driver(load(path))


@pytest.mark.parametrize(
    "target, message",
    [
        ({"smtp": "127.0.0.1:2", "admin_token": "t"}, "[target] needs 'http' for the reference driver"),
        ({"http": "127.0.0.1:1", "smtp": "127.0.0.1:2", "admin_token": "t"}, "target.http must be an http(s) URL"),
        ({"http": "http://x:1", "admin_token": "t"}, "[target] needs 'smtp'"),
        ({"http": "http://x:1", "smtp": "x", "admin_token": "t"}, "target.smtp must read host:port"),
        (
            {"http": "http://x:1", "smtp": "x:2"},
            "needs 'admin_token' for the reference driver (capabilities admin-console",
        ),
        (
            {"http": "http://x:1", "smtp": "x:2", "admin_token": "t", "timeout_s": -1},
            "target.timeout_s must be a positive",
        ),
        ({"http": "http://x:1", "smtp": "x:2", "admin_token": "t", "url": "x"}, "[target] has unknown keys url"),
    ],
)
def test_the_reference_driver_validates_its_target_table(target, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        load_driver(from_dict(GOOD | {"target": target}))


def test_a_reference_target_without_admin_capabilities_needs_no_token():
    profile = from_dict(GOOD | {"target": {"http": "http://x:1"}, "capabilities": ["sm-portal"]})
    assert load_driver(profile).capabilities == {"sm-portal"}


@pytest.mark.parametrize(
    "content, message",
    [
        ('name = "x"\n[mailpit]\napi = "http://127.0.0.1:9"\n[target]\nhttp = 5\n', "[target] needs 'http'"),
        ("name = [", "Target profile is not valid TOML/JSON"),
        ('name = "x"\ncapabilities = ["teleport"]\n[mailpit]\napi = "http://h:1"\n', "unknown capability 'teleport'"),
    ],
)
@pytest.mark.parametrize("command", [("target", "check"), ("run", "--target")])
def test_the_cli_says_what_is_wrong_in_one_line_and_exits_2(tmp_path, content, message, command):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    done = smlite(*command, path, "--reports-dir", tmp_path) if command[0] == "run" else smlite(*command, path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("2*")), "a refused run leaves no report folder"


def test_docs_vendors_documents_every_field_and_its_profile_loads(tmp_path):
    from .vendorkit import REPO

    text = (REPO / "docs" / "vendors.md").read_text(encoding="utf-8")
    for key in [*(set(from_dict(GOOD).to_dict()) - {"source_path"}), *Rules.__dataclass_fields__, *CAPABILITIES]:
        assert f"`{key}`" in text or f"`[{key}]`" in text, f"docs/vendors.md does not document {key}"
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if b.startswith("name =")]
    assert blocks, "the annotated profile is missing"
    (tmp_path / "doc.toml").write_text(blocks[0], encoding="utf-8")
    documented, example = load(tmp_path / "doc.toml"), load(EXAMPLES / "vendor-profile.toml")
    assert documented.to_dict() | {"source_path": ""} == example.to_dict() | {"source_path": ""}
