"""boto3 against the test controls of a running appstream-local (--transition-seconds 0):
a fleet start that a fault rule makes fail stops the FleetStarted waiter, and the history
shows the calls. Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 python3 boto3_controls.py"""
import json
import os
import urllib.request

import boto3
import botocore

endpoint = os.environ.get("APPSTREAM_ENDPOINT", "http://127.0.0.1:4599")
ACCOUNT = "456789012345"
c = boto3.client("appstream", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id=ACCOUNT, aws_secret_access_key="test")


def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(endpoint + path, data=data, method=method, headers=headers)) as reply:
        return json.load(reply)


rule = control("POST", "/_faults", {"rules": [{
    "operation": "StartFleet", "account": ACCOUNT, "count": 1,
    "transition_failure": {"code": "IAM_SERVICE_ROLE_IS_MISSING", "message": "The fleet's role is missing."},
}]})["rules"][0]
c.create_fleet(Name="doomed", ImageName="AppStream-WinServer2022-10-08-2025",
               InstanceType="stream.standard.medium", ComputeCapacity={"DesiredInstances": 1})
c.start_fleet(Name="doomed")
try:
    c.get_waiter("fleet_started").wait(Names=["doomed"], WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    raise AssertionError("the waiter should have failed")
except botocore.exceptions.WaiterError as e:
    assert "terminal failure state" in str(e), e
    failure = str(e)
fleet = c.describe_fleets(Names=["doomed"])["Fleets"][0]
assert fleet["State"] == "STOPPED", fleet
assert fleet["FleetErrors"] == [{"ErrorCode": "IAM_SERVICE_ROLE_IS_MISSING",
                                 "ErrorMessage": "The fleet's role is missing."}], fleet
fired = control("GET", "/_faults")["rules"]
assert [r["fired"] for r in fired if r["id"] == rule["id"]] == [1], fired
calls = control("GET", f"/_requests?account={ACCOUNT}")["requests"]
ops = [r["operation"] for r in calls]
assert ops[:2] == ["CreateFleet", "StartFleet"] and calls[1]["fault"] == rule["id"], calls
control("DELETE", "/_faults")
print(f"boto3 controls: ok ({failure}; FleetErrors {fleet['FleetErrors'][0]['ErrorCode']}; "
      f"history {ops})")
