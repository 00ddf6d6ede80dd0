"""Examples of `AppStreamLocal` used directly: its own flags, its own lifetime."""

import json
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from appstream_local import AppStreamLocal, AppStreamLocalError, ControlError

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def test_flags_are_keywords_and_quotas_apply():
    with AppStreamLocal(enforce_quotas=True, transition_seconds=0) as server:
        client = server.client(config=NO_RETRIES)
        for i in range(10):
            client.create_stack(Name=f"stack-{i}")
        with pytest.raises(ClientError) as refused:
            client.create_stack(Name="one-too-many")
        assert refused.value.response["Error"]["Code"] == "LimitExceededException"
    assert not server.running


def test_a_reset_returns_to_the_seeded_state(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps([{"operation": "CreateStack", "input": {"Name": "seeded"}}]))
    with AppStreamLocal(init=seed) as server:
        client = server.client()
        client.delete_stack(Name="seeded")
        client.create_stack(Name="extra")
        server.reset()
        names = [s["Name"] for s in client.describe_stacks()["Stacks"]]
        assert names == ["seeded"]


def test_a_server_logging_little_or_as_json_is_still_found():
    # Found through the address file it writes, not through its log.
    for env, flags in [({"RUST_LOG": "warn"}, {}), ({}, {"log_format": "json"})]:
        with AppStreamLocal(env=env, startup_timeout=10, **flags) as server:
            assert server.client().describe_stacks()["Stacks"] == []


def test_a_server_that_cannot_start_says_why_with_its_log(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(AppStreamLocalError) as failed:
        AppStreamLocal(init=missing)
    assert "exited with status 1" in str(failed.value)
    assert f"cannot seed state from {missing}" in str(failed.value)


def test_a_refused_control_raises_with_the_servers_reason():
    with AppStreamLocal() as server:
        with pytest.raises(ControlError) as refused:
            server.clock.advance(-5)
        assert refused.value.status == 400
        with pytest.raises(ControlError):
            server.faults.add("NoSuchOperation", error="Boom")
        assert server.faults.list() == []


def test_a_control_token_is_sent_for_every_control():
    with AppStreamLocal(control_token="s3cret") as server:
        server.faults.add("CreateStack", error="ThrottlingException")
        assert len(server.faults.list()) == 1
        server.reset()
        assert server.faults.list() == []


def test_every_control_method_reaches_its_control():
    with AppStreamLocal() as server:
        assert server.health()["status"] == "ok"
        assert server.clock.set(120) == 120
        assert 100 < server.clock.now - time.time() < 140
        server.clock.reset()
        assert server.clock.offset == 0
        rule = server.faults.add("DescribeStacks", error="ThrottlingException")
        kept = server.faults.add("DeleteStack", error="ThrottlingException")
        server.faults.remove(rule["id"])
        assert [r["id"] for r in server.faults.list()] == [kept["id"]]
        server.client().create_stack(Name="seen")
        assert len(server.requests(operation="CreateStack")) == 1
        server.clear_requests()
        assert server.requests() == []
        with pytest.raises(ValueError):
            server.reset(account="000000000000")
