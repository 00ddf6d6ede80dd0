"""boto3 (AWS JSON 1.1) through five end-to-end flows against a running appstream-local
started with --transition-seconds 0: an Elastic fleet serving an application from an app
block; an APPSTREAM2 app block packaged by an app block builder; a stack with an
entitlement and a theme; a directory-joined fleet; an image copied to another Region and
exported. Each step prints what it saw.
Usage: APPSTREAM_ENDPOINT=http://127.0.0.1:4599 python3 boto3_flows.py"""
import json
import os
import urllib.request

import boto3
import botocore

endpoint = os.environ.get("APPSTREAM_ENDPOINT", "http://127.0.0.1:4599")
ACCOUNT = "210987654321"


def client(region="us-west-2"):
    return boto3.client(
        "appstream",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=ACCOUNT,
        aws_secret_access_key="test",
    )


c = client()


def control(path, body):
    request = urllib.request.Request(
        endpoint + path,
        data=json.dumps(dict(body, account=ACCOUNT, region="us-west-2")).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as reply:
        return json.load(reply)


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{call.__name__}: expected {code}, got {got}: {e}"
        return
    raise AssertionError(f"{call.__name__} succeeded; expected {code}")


def s3(key):
    return {"S3Bucket": "apps-bucket", "S3Key": key}


def elastic_fleet_with_an_application():
    block = c.create_app_block(
        Name="paint-block",
        SourceS3Location=s3("paint.vhdx"),
        SetupScriptDetails={
            "ScriptS3Location": s3("setup.ps1"),
            "ExecutablePath": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "TimeoutInSeconds": 120,
        },
    )["AppBlock"]
    assert block["State"] == "ACTIVE", block
    app = c.create_application(
        Name="paint",
        LaunchPath="C:\\paint\\paint.exe",
        IconS3Location=s3("paint.png"),
        Platforms=["WINDOWS_SERVER_2019"],
        InstanceFamilies=["GENERAL_PURPOSE"],
        AppBlockArn=block["Arn"],
    )["Application"]
    fleet = c.create_fleet(
        Name="elastic",
        FleetType="ELASTIC",
        InstanceType="stream.standard.medium",
        Platform="WINDOWS_SERVER_2019",
        MaxConcurrentSessions=10,
        VpcConfig={"SubnetIds": ["subnet-a", "subnet-b"]},
    )["Fleet"]
    c.associate_application_fleet(FleetName="elastic", ApplicationArn=app["Arn"])
    c.create_stack(Name="elastic-stack")
    c.associate_fleet(FleetName="elastic", StackName="elastic-stack")
    c.start_fleet(Name="elastic")
    running = c.describe_fleets(Names=["elastic"])["Fleets"][0]["State"]
    url = c.create_streaming_url(StackName="elastic-stack", FleetName="elastic", UserId="ann", ApplicationId="paint")
    seen = c.describe_application_fleet_associations(FleetName="elastic")["ApplicationFleetAssociations"]
    assert seen == [{"FleetName": "elastic", "ApplicationArn": app["Arn"]}], seen
    expect_error("ResourceInUseException", c.delete_application, Name="paint")
    print(f"elastic fleet: {fleet['FleetType']} {running}, application {app['Name']} from block "
          f"{block['Name']} ({block['State']}), streaming URL until {url['Expires']:%H:%M:%S}")


def app_block_packaged_by_a_builder():
    block = c.create_app_block(Name="office-block", PackagingType="APPSTREAM2", SourceS3Location={"S3Bucket": "apps-bucket"})["AppBlock"]
    c.create_app_block_builder(
        Name="packager",
        Platform="WINDOWS_SERVER_2019",
        InstanceType="stream.standard.large",
        VpcConfig={"SubnetIds": ["subnet-a", "subnet-b"]},
    )
    expect_error("OperationNotPermittedException", c.start_app_block_builder, Name="packager")
    c.associate_app_block_builder_app_block(AppBlockBuilderName="packager", AppBlockArn=block["Arn"])
    c.start_app_block_builder(Name="packager")
    state = c.describe_app_block_builders(Names=["packager"])["AppBlockBuilders"][0]["State"]
    c.create_app_block_builder_streaming_url(AppBlockBuilderName="packager")
    packaged = control("/_app-block-builders/finish-packaging", {"name": "packager"})
    after = c.describe_app_blocks(Arns=[block["Arn"]])["AppBlocks"][0]["State"]
    assert (block["State"], after) == ("INACTIVE", "ACTIVE"), (block["State"], after)
    c.stop_app_block_builder(Name="packager")
    c.disassociate_app_block_builder_app_block(AppBlockBuilderName="packager", AppBlockArn=block["Arn"])
    c.delete_app_block_builder(Name="packager")
    print(f"app block builder: {state}, packaged {packaged['AppBlockArn']}: {block['State']} -> {after}")


def stack_with_entitlement_and_theme():
    c.create_stack(Name="portal")
    c.create_entitlement(
        Name="designers",
        StackName="portal",
        AppVisibility="ASSOCIATED",
        Attributes=[{"Name": "department", "Value": "design"}],
    )
    c.associate_application_to_entitlement(StackName="portal", EntitlementName="designers", ApplicationIdentifier="paint")
    apps = c.list_entitled_applications(StackName="portal", EntitlementName="designers")["EntitledApplications"]
    theme = c.create_theme_for_stack(
        StackName="portal",
        TitleText="Design portal",
        ThemeStyling="BLUE",
        OrganizationLogoS3Location=s3("logo.png"),
        FaviconS3Location=s3("favicon.ico"),
        FooterLinks=[{"DisplayName": "Help", "FooterLinkURL": "https://example.com/help"}],
    )["Theme"]
    c.update_theme_for_stack(StackName="portal", AttributesToDelete=["FOOTER_LINKS"])
    footer = c.describe_theme_for_stack(StackName="portal")["Theme"].get("ThemeFooterLinks", [])
    assert footer == [], footer
    c.delete_stack(Name="portal")
    expect_error("ResourceNotFoundException", c.describe_theme_for_stack, StackName="portal")
    print(f"stack portal: entitlement designers -> {[a['ApplicationIdentifier'] for a in apps]}, "
          f"theme '{theme['ThemeTitleText']}' {theme['State']} logo {theme['ThemeOrganizationLogoURL']}; "
          f"deleting the stack took both")


def directory_joined_fleet():
    domain = {"DirectoryName": "corp.example.com", "OrganizationalUnitDistinguishedName": "OU=AppStream,DC=corp,DC=example,DC=com"}
    fleet = dict(
        Name="joined",
        InstanceType="stream.standard.medium",
        ImageName="AppStream-WinServer2022-10-08-2025",
        ComputeCapacity={"DesiredInstances": 1},
        DomainJoinInfo=domain,
    )
    expect_error("ResourceNotFoundException", c.create_fleet, **fleet)
    config = c.create_directory_config(
        DirectoryName="corp.example.com",
        OrganizationalUnitDistinguishedNames=[domain["OrganizationalUnitDistinguishedName"]],
        ServiceAccountCredentials={"AccountName": "CORP\\appstream", "AccountPassword": "Pa55word!"},
    )["DirectoryConfig"]
    assert "AccountPassword" not in config["ServiceAccountCredentials"], config
    joined = c.create_fleet(**fleet)["Fleet"]
    expect_error("ResourceInUseException", c.delete_directory_config, DirectoryName="corp.example.com")
    c.delete_fleet(Name="joined")
    c.delete_directory_config(DirectoryName="corp.example.com")
    print(f"directory-joined fleet: {joined['DomainJoinInfo']['DirectoryName']} "
          f"(credentials {config['ServiceAccountCredentials']})")


def image_copied_and_exported():
    c.create_updated_image(existingImageName="AppStream-WinServer2022-10-08-2025", newImageName="golden")
    c.copy_image(SourceImageName="golden", DestinationImageName="golden-eu", DestinationRegion="eu-central-1")
    there = client("eu-central-1").describe_images(Names=["golden-eu"])["Images"][0]
    task = c.create_export_image_task(
        ImageName="golden", AmiName="golden-ami", IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/export"
    )["ExportImageTask"]
    done = c.get_export_image_task(TaskId=task["TaskId"])["ExportImageTask"]
    assert done["State"] == "COMPLETED" and done["AmiId"].startswith("ami-"), done
    listed = c.list_export_image_tasks(Filters=[{"Name": "state", "Values": ["COMPLETED"]}])["ExportImageTasks"]
    assert [t["TaskId"] for t in listed] == [task["TaskId"]], listed
    print(f"image golden copied to eu-central-1 as {there['Arn']} ({there['State']}), "
          f"exported as {done['AmiId']} ({task['State']} -> {done['State']})")


elastic_fleet_with_an_application()
app_block_packaged_by_a_builder()
stack_with_entitlement_and_theme()
directory_joined_fleet()
image_copied_and_exported()
print("boto3 flows: ok")
