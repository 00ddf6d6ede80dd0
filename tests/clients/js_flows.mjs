// AWS SDK for JavaScript v3 (AWS JSON 1.1) through the same five flows as boto3_flows.py,
// against a running appstream-local started with --transition-seconds 0.
// Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 node js_flows.mjs
import assert from "node:assert/strict";
import * as as from "@aws-sdk/client-appstream";

const endpoint = process.env.APPSTREAM_ENDPOINT ?? "http://127.0.0.1:4599";
const account = "345678901234";
const clientIn = (region) =>
  new as.AppStreamClient({ region, endpoint, credentials: { accessKeyId: account, secretAccessKey: "test" } });
const client = clientIn("ca-central-1");
const send = (name, input) => client.send(new as[`${name}Command`](input));
const s3 = (key) => ({ S3Bucket: "apps-bucket", S3Key: key });

async function expectError(code, name, input) {
  await assert.rejects(send(name, input), (e) => {
    assert.equal(e.name, code, `${name}: ${e.message}`);
    return true;
  });
}

async function control(path, body) {
  const reply = await fetch(endpoint + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, account, region: "ca-central-1" }),
  });
  assert.equal(reply.status, 200, await reply.clone().text());
  return reply.json();
}

// 1. An Elastic fleet serving an application from an app block.
const { AppBlock: block } = await send("CreateAppBlock", {
  Name: "paint-block",
  SourceS3Location: s3("paint.vhdx"),
  SetupScriptDetails: { ScriptS3Location: s3("setup.ps1"), ExecutablePath: "powershell.exe", TimeoutInSeconds: 60 },
});
const { Application: app } = await send("CreateApplication", {
  Name: "paint", LaunchPath: "C:\\paint\\paint.exe", IconS3Location: s3("paint.png"),
  Platforms: ["WINDOWS_SERVER_2019"], InstanceFamilies: ["GENERAL_PURPOSE"], AppBlockArn: block.Arn,
});
await send("CreateFleet", {
  Name: "elastic", FleetType: "ELASTIC", InstanceType: "stream.standard.medium",
  Platform: "WINDOWS_SERVER_2019", MaxConcurrentSessions: 5, VpcConfig: { SubnetIds: ["subnet-a", "subnet-b"] },
});
await send("AssociateApplicationFleet", { FleetName: "elastic", ApplicationArn: app.Arn });
const { ApplicationFleetAssociations: byApp } = await send("DescribeApplicationFleetAssociations", { ApplicationArn: app.Arn });
assert.deepEqual(byApp, [{ FleetName: "elastic", ApplicationArn: app.Arn }]);
await send("CreateStack", { Name: "elastic-stack" });
await send("AssociateFleet", { FleetName: "elastic", StackName: "elastic-stack" });
await send("StartFleet", { Name: "elastic" });
await as.waitUntilFleetStarted({ client, maxWaitTime: 10, minDelay: 1 }, { Names: ["elastic"] });
const url = await send("CreateStreamingURL", { StackName: "elastic-stack", FleetName: "elastic", UserId: "ann", ApplicationId: "paint" });
assert.ok(url.Expires instanceof Date);
await expectError("ResourceInUseException", "DeleteAppBlock", { Name: "paint-block" });
console.log(`elastic fleet RUNNING with ${app.Name} from ${block.Name} (${block.State})`);

// 2. An APPSTREAM2 app block packaged by an app block builder.
const { AppBlock: office } = await send("CreateAppBlock", {
  Name: "office-block", PackagingType: "APPSTREAM2", SourceS3Location: { S3Bucket: "apps-bucket" },
});
await send("CreateAppBlockBuilder", {
  Name: "packager", Platform: "WINDOWS_SERVER_2019", InstanceType: "stream.standard.large",
  VpcConfig: { SubnetIds: ["subnet-a", "subnet-b"] },
});
await send("AssociateAppBlockBuilderAppBlock", { AppBlockBuilderName: "packager", AppBlockArn: office.Arn });
await send("StartAppBlockBuilder", { Name: "packager" });
await control("/_app-block-builders/finish-packaging", { name: "packager" });
const { AppBlocks: [packaged] } = await send("DescribeAppBlocks", { Arns: [office.Arn] });
assert.equal(office.State, "INACTIVE");
assert.equal(packaged.State, "ACTIVE");
console.log(`app block ${office.Name}: ${office.State} -> ${packaged.State}`);

// 3. A stack with an entitlement and a theme.
await send("CreateStack", { Name: "portal" });
await send("CreateEntitlement", {
  Name: "designers", StackName: "portal", AppVisibility: "ASSOCIATED",
  Attributes: [{ Name: "department", Value: "design" }],
});
await send("AssociateApplicationToEntitlement", { StackName: "portal", EntitlementName: "designers", ApplicationIdentifier: "paint" });
const { Theme: theme } = await send("CreateThemeForStack", {
  StackName: "portal", TitleText: "Design portal", ThemeStyling: "PINK",
  OrganizationLogoS3Location: s3("logo.png"), FaviconS3Location: s3("favicon.ico"),
});
assert.ok(theme.CreatedTime instanceof Date);
const { EntitledApplications: entitled } = await send("ListEntitledApplications", { StackName: "portal", EntitlementName: "designers" });
assert.deepEqual(entitled, [{ ApplicationIdentifier: "paint" }]);
await send("DeleteStack", { Name: "portal" });
await expectError("ResourceNotFoundException", "DescribeThemeForStack", { StackName: "portal" });
console.log(`stack portal: entitlement -> ${entitled.map((a) => a.ApplicationIdentifier)}, theme ${theme.ThemeStyling}`);

// 4. A directory-joined fleet.
const domain = { DirectoryName: "corp.example.com", OrganizationalUnitDistinguishedName: "OU=AS,DC=corp,DC=example,DC=com" };
const joinedFleet = {
  Name: "joined", InstanceType: "stream.standard.medium", ImageName: "AppStream-WinServer2022-10-08-2025",
  ComputeCapacity: { DesiredInstances: 1 }, DomainJoinInfo: domain,
};
await expectError("ResourceNotFoundException", "CreateFleet", joinedFleet);
const { DirectoryConfig: config } = await send("CreateDirectoryConfig", {
  DirectoryName: domain.DirectoryName,
  OrganizationalUnitDistinguishedNames: [domain.OrganizationalUnitDistinguishedName],
  ServiceAccountCredentials: { AccountName: "CORP\\svc", AccountPassword: "Pa55word!" },
});
assert.equal(config.ServiceAccountCredentials.AccountPassword, undefined);
const { Fleet: joined } = await send("CreateFleet", joinedFleet);
assert.deepEqual(joined.DomainJoinInfo, domain);
await expectError("ResourceInUseException", "DeleteDirectoryConfig", { DirectoryName: domain.DirectoryName });
console.log(`fleet ${joined.Name} joins ${joined.DomainJoinInfo.DirectoryName}`);

// 5. An image copied to another Region and exported.
await send("CreateUpdatedImage", { existingImageName: "AppStream-WinServer2022-10-08-2025", newImageName: "golden" });
await send("CopyImage", { SourceImageName: "golden", DestinationImageName: "golden-us", DestinationRegion: "us-east-2" });
const there = await clientIn("us-east-2").send(new as.DescribeImagesCommand({ Names: ["golden-us"] }));
assert.equal(there.Images[0].State, "AVAILABLE");
const { ExportImageTask: task } = await send("CreateExportImageTask", {
  ImageName: "golden", AmiName: "golden-ami", IamRoleArn: `arn:aws:iam::${account}:role/export`,
});
const { ExportImageTask: done } = await send("GetExportImageTask", { TaskId: task.TaskId });
assert.equal(done.State, "COMPLETED");
assert.match(done.AmiId, /^ami-[0-9a-f]{17}$/);
console.log(`image golden -> ${there.Images[0].Arn}, exported as ${done.AmiId}`);
console.log("JS flows: ok");
