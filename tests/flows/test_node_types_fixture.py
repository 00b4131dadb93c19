"""The editor's node-types fixture is generated from the backend and must not go stale."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from flows.nodes.base import ports_from_rule
from flows.nodes.fixture import FIXTURE, node_types_document, node_types_json


def test_the_fixture_is_what_the_backend_serves_now():
    assert FIXTURE.exists(), "run `python manage.py node_types_fixture`"
    assert FIXTURE.read_text(encoding="utf-8") == node_types_json(), (
        "frontend/src/test/fixtures/node-types.json is stale: run `python manage.py node_types_fixture`")


def test_the_check_command_fails_on_a_stale_file(tmp_path, monkeypatch):
    stale = tmp_path / "node-types.json"
    stale.write_text("[]\n", encoding="utf-8")
    monkeypatch.setattr("flows.management.commands.node_types_fixture.FIXTURE", stale)
    with pytest.raises(CommandError, match="stale"):
        call_command("node_types_fixture", "--check")
    call_command("node_types_fixture")  # regenerates it
    call_command("node_types_fixture", "--check")
    assert json.loads(stale.read_text(encoding="utf-8"))["node_types"]


def test_port_examples_follow_the_served_rule():
    document = node_types_document()
    rules = {t["key"]: t["dynamic_ports"] for t in document["node_types"] if t["dynamic_ports"]}
    assert document["port_examples"], "examples for the frontend's port rule"
    for example in document["port_examples"]:
        assert [p.as_dict() for p in ports_from_rule(rules[example["type"]], example["config"])] == example["ports"]
    labels = [p["label"]["pt-BR"] for p in document["port_examples"][2]["ports"]]
    assert labels == ["VIP", "Demais"]  # a repeated id is one port; an item without id none
