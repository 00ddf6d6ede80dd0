"""boto3 (AWS JSON 1.1) against a running appstream-local: the stack lifecycle and the
errors the real service gives. Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 python3 boto3_smoke.py"""
import os
import sys

import boto3
import botocore

endpoint = os.environ.get("APPSTREAM_ENDPOINT", "http://127.0.0.1:4599")
client = boto3.client(
    "appstream",
    endpoint_url=endpoint,
    region_name="eu-west-1",
    aws_access_key_id="123456789012",
    aws_secret_access_key="test",
)


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{call.__name__}: expected {code}, got {got}: {e}"
        return e.response["Error"]["Message"]
    raise AssertionError(f"{call.__name__} succeeded; expected {code}")


stack = client.create_stack(
    Name="boto3-stack",
    DisplayName="From boto3",
    Tags={"env": "ci"},
    ApplicationSettings={"Enabled": True, "SettingsGroup": "g"},
)["Stack"]
assert stack["Arn"] == "arn:aws:appstream:eu-west-1:123456789012:stack/boto3-stack", stack["Arn"]
assert stack["CreatedTime"].year >= 2024, stack["CreatedTime"]
assert stack["ApplicationSettings"]["S3BucketName"].startswith("appstream-app-settings-eu-west-1-123456789012-")

described = client.describe_stacks(Names=["boto3-stack"])["Stacks"]
assert described[0]["DisplayName"] == "From boto3"

updated = client.update_stack(Name="boto3-stack", Description="updated")["Stack"]
assert updated["Description"] == "updated" and updated["DisplayName"] == "From boto3"

client.tag_resource(ResourceArn=stack["Arn"], Tags={"team": "qa"})
client.untag_resource(ResourceArn=stack["Arn"], TagKeys=["env"])
tags = client.list_tags_for_resource(ResourceArn=stack["Arn"])["Tags"]
assert tags == {"team": "qa"}, tags

expect_error("ResourceAlreadyExistsException", client.create_stack, Name="boto3-stack")
message = expect_error("ValidationException", client.create_stack, Name="bad name")
assert message.startswith("1 validation error detected: Value 'bad name' at 'name'"), message
expect_error("ResourceNotFoundException", client.describe_stacks, Names=["missing"])

for i in range(30):
    client.create_stack(Name=f"page-{i:02d}")
names = [s["Name"] for page in client.get_paginator("describe_stacks").paginate() for s in page["Stacks"]]
assert names == sorted(names) and len(names) == 31, names

client.delete_stack(Name="boto3-stack")
expect_error("ResourceNotFoundException", client.delete_stack, Name="boto3-stack")

# The fleet flow, with the model's waiters polling every second.
fast = {"Delay": 1, "MaxAttempts": 30}
client.create_stack(Name="flow-stack")
fleet = client.create_fleet(
    Name="boto3-fleet",
    ImageName="AppStream-WinServer2022-10-08-2025",
    InstanceType="stream.standard.small",
    ComputeCapacity={"DesiredInstances": 1},
)["Fleet"]
assert fleet["State"] == "STOPPED", fleet["State"]
client.associate_fleet(FleetName="boto3-fleet", StackName="flow-stack")
client.start_fleet(Name="boto3-fleet")
client.get_waiter("fleet_started").wait(Names=["boto3-fleet"], WaiterConfig=fast)
client.create_user(UserName="user@example.com", AuthenticationType="USERPOOL")
batch = client.batch_associate_user_stack(
    UserStackAssociations=[
        {"StackName": "flow-stack", "UserName": "user@example.com", "AuthenticationType": "USERPOOL"},
        {"StackName": "flow-stack", "UserName": "nobody@example.com", "AuthenticationType": "USERPOOL"},
    ]
)
assert [e["ErrorCode"] for e in batch["errors"]] == ["USER_NAME_NOT_FOUND"], batch
url = client.create_streaming_url(StackName="flow-stack", FleetName="boto3-fleet", UserId="user1")
# The URL opens on the server the client reached.
assert url["StreamingURL"].startswith(endpoint + "/authenticate?"), url
sessions = client.describe_sessions(StackName="flow-stack", FleetName="boto3-fleet")["Sessions"]
assert [s["UserId"] for s in sessions] == ["user1"], sessions
expect_error("ResourceInUseException", client.delete_stack, Name="flow-stack")
client.disassociate_fleet(FleetName="boto3-fleet", StackName="flow-stack")
client.stop_fleet(Name="boto3-fleet")
client.get_waiter("fleet_stopped").wait(Names=["boto3-fleet"], WaiterConfig=fast)
client.delete_fleet(Name="boto3-fleet")
client.delete_stack(Name="flow-stack")
print("boto3 smoke: ok", boto3.__version__, file=sys.stderr)
