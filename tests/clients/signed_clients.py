"""boto3 and the AWS CLI against appstream-local started with --verify-signatures and
APPSTREAM_LOCAL_CREDENTIALS=AKIDCI:ci-secret:345678901234: the right secret is served as
that account, a wrong secret and an unknown key are refused as AWS refuses them.
Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 python3 signed_clients.py"""
import os
import subprocess

import boto3
import botocore

endpoint = os.environ.get("APPSTREAM_ENDPOINT", "http://127.0.0.1:4599")


def client(key, secret):
    return boto3.client("appstream", endpoint_url=endpoint, region_name="eu-west-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


def refusal(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("the call should have been refused")


stack = client("AKIDCI", "ci-secret").create_stack(Name="signed")["Stack"]
assert stack["Arn"] == "arn:aws:appstream:eu-west-1:345678901234:stack/signed", stack["Arn"]
assert refusal(lambda: client("AKIDCI", "wrong").describe_stacks()) == ("InvalidSignatureException", 403)
assert refusal(lambda: client("AKIDNOBODY", "x").describe_stacks()) == ("UnrecognizedClientException", 403)

cli = ["aws", "appstream", "describe-stacks", "--endpoint-url", endpoint, "--region", "eu-west-1"]
env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCI", AWS_SECRET_ACCESS_KEY="ci-secret")
out = subprocess.run(cli, env=env, capture_output=True, text=True)
assert out.returncode == 0 and "signed" in out.stdout, out
env["AWS_SECRET_ACCESS_KEY"] = "wrong"
out = subprocess.run(cli, env=env, capture_output=True, text=True)
assert out.returncode != 0 and "InvalidSignatureException" in out.stderr, out
print("boto3 and AWS CLI signatures: ok")
