// The JS SDK v3 against appstream-local started with --verify-signatures and
// APPSTREAM_LOCAL_CREDENTIALS=AKIDCI:ci-secret:345678901234: right and wrong secrets.
// Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 node signed_clients.mjs
import assert from "node:assert/strict";
import { AppStreamClient, DescribeStacksCommand } from "@aws-sdk/client-appstream";

const endpoint = process.env.APPSTREAM_ENDPOINT ?? "http://127.0.0.1:4599";
const client = (accessKeyId, secretAccessKey) =>
  new AppStreamClient({ region: "eu-west-1", endpoint, credentials: { accessKeyId, secretAccessKey } });

const { Stacks } = await client("AKIDCI", "ci-secret").send(new DescribeStacksCommand({}));
assert.equal(Stacks[0].Arn, "arn:aws:appstream:eu-west-1:345678901234:stack/signed");
for (const [key, secret, expected] of [
  ["AKIDCI", "wrong", "InvalidSignatureException"],
  ["AKIDNOBODY", "x", "UnrecognizedClientException"],
]) {
  await assert.rejects(client(key, secret).send(new DescribeStacksCommand({})), (e) => {
    assert.equal(e.name, expected);
    assert.equal(e.$metadata.httpStatusCode, 403);
    return true;
  });
}
console.log("JS signatures: ok");
