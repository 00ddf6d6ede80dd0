// AWS SDK for JavaScript v3 (AWS JSON 1.1) against a running appstream-local.
// Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 node js_smoke.mjs
import assert from "node:assert/strict";
import {
  AppStreamClient, CreateStackCommand, DescribeStacksCommand, UpdateStackCommand,
  TagResourceCommand, UntagResourceCommand, ListTagsForResourceCommand, DeleteStackCommand,
} from "@aws-sdk/client-appstream";

const client = new AppStreamClient({
  region: "ap-southeast-2",
  endpoint: process.env.APPSTREAM_ENDPOINT ?? "http://127.0.0.1:4599",
  credentials: { accessKeyId: "210987654321", secretAccessKey: "test" },
});

async function expectError(name, command) {
  await assert.rejects(client.send(command), (e) => {
    assert.equal(e.name, name, e.message);
    return true;
  });
}

const { Stack } = await client.send(new CreateStackCommand({ Name: "js-stack", Tags: { env: "ci" } }));
assert.equal(Stack.Arn, "arn:aws:appstream:ap-southeast-2:210987654321:stack/js-stack");
assert.ok(Stack.CreatedTime instanceof Date && Stack.CreatedTime.getFullYear() >= 2024);
const updated = await client.send(new UpdateStackCommand({ Name: "js-stack", DisplayName: "JS" }));
assert.equal(updated.Stack.DisplayName, "JS");
const described = await client.send(new DescribeStacksCommand({ Names: ["js-stack"] }));
assert.equal(described.Stacks[0].DisplayName, "JS");
await client.send(new TagResourceCommand({ ResourceArn: Stack.Arn, Tags: { team: "qa" } }));
await client.send(new UntagResourceCommand({ ResourceArn: Stack.Arn, TagKeys: ["env"] }));
const { Tags } = await client.send(new ListTagsForResourceCommand({ ResourceArn: Stack.Arn }));
assert.deepEqual(Tags, { team: "qa" });
await expectError("ResourceAlreadyExistsException", new CreateStackCommand({ Name: "js-stack" }));
await expectError("ValidationException", new CreateStackCommand({ Name: "js stack" }));
await expectError("ResourceNotFoundException", new DescribeStacksCommand({ Names: ["missing"] }));
await client.send(new DeleteStackCommand({ Name: "js-stack" }));
await expectError("ResourceNotFoundException", new DeleteStackCommand({ Name: "js-stack" }));
console.error("js smoke: ok");
