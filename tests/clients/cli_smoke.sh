#!/usr/bin/env bash
# The AWS CLI against a running appstream-local, configured only through
# AWS_ENDPOINT_URL_APPSTREAM. Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 cli_smoke.sh
set -euo pipefail
export AWS_ENDPOINT_URL_APPSTREAM="${APPSTREAM_ENDPOINT:-http://127.0.0.1:4599}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-west-2
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

arn=$(aws appstream create-stack --name cli-stack --tags team=qa --query Stack.Arn --output text)
[ "$arn" = "arn:aws:appstream:us-west-2:000000000000:stack/cli-stack" ] || { echo "unexpected ARN $arn"; exit 1; }
[ "$(aws appstream update-stack --name cli-stack --description hi --query Stack.Description --output text)" = hi ]
[ "$(aws appstream list-tags-for-resource --resource-arn "$arn" --query Tags.team --output text)" = qa ]
if out=$(aws appstream create-stack --name cli-stack 2>&1); then echo "duplicate create succeeded"; exit 1; fi
grep -q ResourceAlreadyExistsException <<<"$out"
aws appstream delete-stack --name cli-stack
if out=$(aws appstream describe-stacks --names cli-stack 2>&1); then echo "describe after delete succeeded"; exit 1; fi
grep -q ResourceNotFoundException <<<"$out"
echo "aws cli smoke: ok" >&2
