// AWS SDK for JavaScript v3 (AWS JSON 1.1) against a running appstream-local.
// Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 node js_smoke.mjs
import assert from "node:assert/strict";
import {
  AppStreamClient, CreateStackCommand, DescribeStacksCommand, UpdateStackCommand,
  TagResourceCommand, UntagResourceCommand, ListTagsForResourceCommand, DeleteStackCommand,
  CreateFleetCommand, StartFleetCommand, StopFleetCommand, DeleteFleetCommand, AssociateFleetCommand,
  DisassociateFleetCommand, CreateStreamingURLCommand, waitUntilFleetStarted, waitUntilFleetStopped,
} from "@aws-sdk/client-appstream";

const endpoint = process.env.APPSTREAM_ENDPOINT ?? "http://127.0.0.1:4599";
const client = new AppStreamClient({
  region: "ap-southeast-2",
  endpoint,
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
// The fleet flow, with the model's waiters polling every second.
const waiter = { client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 };
await client.send(new CreateStackCommand({ Name: "js-flow" }));
const { Fleet } = await client.send(new CreateFleetCommand({
  Name: "js-fleet", ImageName: "AppStream-AmazonLinux2-09-19-2025", InstanceType: "stream.standard.small",
  ComputeCapacity: { DesiredInstances: 1 },
}));
assert.equal(Fleet.State, "STOPPED");
assert.ok(Fleet.CreatedTime instanceof Date);
await client.send(new AssociateFleetCommand({ StackName: "js-flow", FleetName: "js-fleet" }));
await client.send(new StartFleetCommand({ Name: "js-fleet" }));
assert.equal((await waitUntilFleetStarted(waiter, { Names: ["js-fleet"] })).state, "SUCCESS");
const url = await client.send(new CreateStreamingURLCommand({ StackName: "js-flow", FleetName: "js-fleet", UserId: "u1" }));
// The URL opens on the server the client reached.
assert.ok(url.StreamingURL.startsWith(`${endpoint}/authenticate?`), url.StreamingURL);
assert.ok(url.Expires instanceof Date);
await expectError("ResourceInUseException", new DeleteStackCommand({ Name: "js-flow" }));
await client.send(new DisassociateFleetCommand({ StackName: "js-flow", FleetName: "js-fleet" }));
await client.send(new StopFleetCommand({ Name: "js-fleet" }));
assert.equal((await waitUntilFleetStopped(waiter, { Names: ["js-fleet"] })).state, "SUCCESS");
await client.send(new DeleteFleetCommand({ Name: "js-fleet" }));
await client.send(new DeleteStackCommand({ Name: "js-flow" }));
console.error("js smoke: ok");
