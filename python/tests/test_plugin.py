"""Examples of testing AppStream code with the `appstream` fixture: each test gets the
session's server, reset, with the AWS variables pointing boto3 at it."""

import os
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

NO_RETRIES = Config(retries={"total_max_attempts": 1})
IMAGE = "AppStream-WinServer2022-10-08-2025"


def test_boto3_reaches_the_server_through_the_variables(appstream):
    client = boto3.client("appstream")
    stack = client.create_stack(Name="demo")["Stack"]
    assert stack["Arn"] == "arn:aws:appstream:us-east-1:000000000000:stack/demo"
    assert client.meta.endpoint_url == appstream.endpoint


# The next two run in this order: the first leaves a stack, a fault rule, a clock moved a
# day and requests behind; the second fails if the reset before it leaked any of them.


def test_isolation_one_leaves_everything_behind(appstream):
    boto3.client("appstream").create_stack(Name="left-behind")
    appstream.faults.add("DescribeStacks", error="ThrottlingException")
    appstream.clock.advance(86400)
    assert appstream.clock.offset == 86400


def test_isolation_two_sees_nothing_of_the_test_before(appstream):
    client = boto3.client("appstream", config=NO_RETRIES)
    assert client.describe_stacks()["Stacks"] == []
    assert appstream.faults.list() == []
    assert appstream.clock.offset == 0
    stack = client.create_stack(Name="left-behind")["Stack"]
    assert abs(stack["CreatedTime"].timestamp() - time.time()) < 60
    assert [r["operation"] for r in appstream.requests()] == ["DescribeStacks", "CreateStack"]


def test_a_fault_rule_fails_the_calls_it_names(appstream):
    appstream.faults.add("CreateStack", error="ThrottlingException", message="Slow down", count=1)
    client = boto3.client("appstream", config=NO_RETRIES)
    with pytest.raises(ClientError) as refused:
        client.create_stack(Name="throttled")
    assert refused.value.response["Error"]["Code"] == "ThrottlingException"
    assert refused.value.response["Error"]["Message"] == "Slow down"
    # The rule fired its one time; the next call goes through.
    client.create_stack(Name="throttled")
    assert appstream.faults.list()[0]["fired"] == 1


def test_the_sdk_retries_a_throttled_call_and_the_history_shows_each_attempt(appstream):
    appstream.faults.add("DescribeStacks", error="ThrottlingException", count=2)
    client = boto3.client("appstream", config=Config(retries={"mode": "standard"}))
    reply = client.describe_stacks()
    assert reply["ResponseMetadata"]["RetryAttempts"] == 2
    statuses = [r["status"] for r in appstream.requests(operation="DescribeStacks")]
    assert statuses == [400, 400, 200]


def test_the_clock_moves_the_times_the_service_reports(appstream):
    appstream.clock.advance(3600)
    stack = boto3.client("appstream").create_stack(Name="later")["Stack"]
    ahead = stack["CreatedTime"].timestamp() - time.time()
    assert 3500 < ahead < 3700


def test_the_history_shows_what_the_code_called_and_how_it_went(appstream):
    client = boto3.client("appstream", config=NO_RETRIES)
    client.create_stack(Name="audited")
    with pytest.raises(ClientError):
        client.delete_stack(Name="missing")
    client.delete_stack(Name="audited")
    assert [r["operation"] for r in appstream.requests()] == [
        "CreateStack",
        "DeleteStack",
        "DeleteStack",
    ]
    (refused,) = appstream.requests(status=404)
    assert refused["error"] == "ResourceNotFoundException"
    assert refused["input"] == {"Name": "missing"}


def test_state_shows_what_the_calls_left(appstream):
    boto3.client("appstream").create_stack(Name="inspected", Description="kept")
    (region,) = appstream.state("000000000000", "us-east-1")["regions"]
    assert region["state"]["stacks"]["inspected"]["Description"] == "kept"


def test_accounts_and_regions_are_separate(appstream):
    other = appstream.client(account="111122223333", region="eu-west-1")
    arn = other.create_stack(Name="theirs")["Stack"]["Arn"]
    assert arn == "arn:aws:appstream:eu-west-1:111122223333:stack/theirs"
    assert boto3.client("appstream").describe_stacks()["Stacks"] == []


def test_a_fleet_starts_at_once_with_instant_transitions(appstream):
    client = boto3.client("appstream")
    client.create_fleet(
        Name="fleet",
        ImageName=IMAGE,
        InstanceType="stream.standard.medium",
        ComputeCapacity={"DesiredInstances": 1},
    )
    client.start_fleet(Name="fleet")
    client.get_waiter("fleet_started").wait(Names=["fleet"], WaiterConfig={"Delay": 1})
    (fleet,) = client.describe_fleets(Names=["fleet"])["Fleets"]
    assert fleet["State"] == "RUNNING"


def test_a_failed_transition_shows_in_the_fleet(appstream):
    appstream.faults.add(
        "StartFleet",
        transition_failure={"code": "INTERNAL_SERVICE_ERROR", "message": "No capacity"},
    )
    client = boto3.client("appstream")
    client.create_fleet(
        Name="unlucky",
        ImageName=IMAGE,
        InstanceType="stream.standard.medium",
        ComputeCapacity={"DesiredInstances": 1},
    )
    client.start_fleet(Name="unlucky")
    (fleet,) = client.describe_fleets(Names=["unlucky"])["Fleets"]
    assert fleet["State"] == "STOPPED"
    assert fleet["FleetErrors"][0]["ErrorMessage"] == "No capacity"


def test_without_the_fixture_no_variable_is_left_set():
    # The fixture's variables were restored after each test above.
    assert "AWS_ENDPOINT_URL_APPSTREAM" not in os.environ
