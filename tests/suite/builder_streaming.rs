//! Streaming URLs beyond a session's page: builder pages that make an image and finish
//! packaging, an elastic fleet's applications, the session controls, the binary's
//! streaming flags and the buttons' body limit.

use serde_json::json;

use crate::common::{start_with, TestServer, Wire};

use crate::streaming::{
    fast_server, follow, open, press, sessions, signed_fields, stack_and_fleet, streaming_url,
};

#[tokio::test]
async fn builder_urls_open_pages_that_make_an_image_and_finish_packaging() {
    let s = fast_server().await;
    let wire = Wire::Json;
    s.ok(
        wire,
        "CreateImageBuilder",
        json!({"Name": "golden", "InstanceType": "stream.standard.large",
            "ImageName": "AppStream-WinServer2022-10-08-2025"}),
    )
    .await;
    let url = streaming_url(
        &s,
        wire,
        "CreateImageBuilderStreamingURL",
        json!({"Name": "golden"}),
    )
    .await;
    let (_, page) = follow(&s, &url).await;
    assert!(page.contains("Image builder golden") && page.contains(">RUNNING<"));
    let form = format!("{}&image_name=from-page", signed_fields(&page));
    let (status, _, page) = press(&s, "create-image", &form).await;
    assert_eq!(status, 303, "{page}");
    let images = s
        .ok(wire, "DescribeImages", json!({"Names": ["from-page"]}))
        .await;
    assert_eq!(images["Images"][0]["Name"], "from-page");
    // A refusal shows on the page with its status: the builder is busy making the image.
    let (status, _, page) = press(&s, "create-image", &form).await;
    assert_ne!(status, 303);
    assert!(page.contains("class=\"notice\""), "{page}");

    // An app block builder's page finishes packaging.
    let block = s
        .ok(
            wire,
            "CreateAppBlock",
            json!({"Name": "office", "PackagingType": "APPSTREAM2",
                "SourceS3Location": {"S3Bucket": "apps"}}),
        )
        .await["AppBlock"]["Arn"]
        .clone();
    s.ok(
        wire,
        "CreateAppBlockBuilder",
        json!({"Name": "packer", "Platform": "WINDOWS_SERVER_2019",
            "InstanceType": "stream.standard.medium",
            "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}}),
    )
    .await;
    s.ok(
        wire,
        "AssociateAppBlockBuilderAppBlock",
        json!({"AppBlockBuilderName": "packer", "AppBlockArn": block}),
    )
    .await;
    s.ok(wire, "StartAppBlockBuilder", json!({"Name": "packer"}))
        .await;
    let url = streaming_url(
        &s,
        wire,
        "CreateAppBlockBuilderStreamingURL",
        json!({"AppBlockBuilderName": "packer"}),
    )
    .await;
    let (page_url, page) = follow(&s, &url).await;
    assert!(
        page.contains("Finish packaging") && page.contains(">INACTIVE<"),
        "{page}"
    );
    let (status, _, _) = press(&s, "finish-packaging", &signed_fields(&page)).await;
    assert_eq!(status, 303);
    let blocks = s
        .ok(wire, "DescribeAppBlocks", json!({"Arns": [block]}))
        .await;
    assert_eq!(blocks["AppBlocks"][0]["State"], "ACTIVE");
    let (_, _, page) = open(&page_url).await;
    assert!(page.contains(">ACTIVE<") && !page.contains("Finish packaging"));

    // A builder deleted since: its page is a 404.
    s.ok(wire, "StopAppBlockBuilder", json!({"Name": "packer"}))
        .await;
    s.ok(
        wire,
        "DisassociateAppBlockBuilderAppBlock",
        json!({"AppBlockBuilderName": "packer", "AppBlockArn": block}),
    )
    .await;
    s.ok(wire, "DeleteAppBlockBuilder", json!({"Name": "packer"}))
        .await;
    let (status, _, page) = open(&page_url).await;
    assert_eq!(status, 404);
    assert!(page.contains("no longer exists"), "{page}");
}

#[tokio::test]
async fn an_elastic_fleets_applications_show_and_the_launched_one_stands_out() {
    let s = fast_server().await;
    let wire = Wire::Cbor;
    s.ok(wire, "CreateStack", json!({"Name": "st"})).await;
    let block = s
        .ok(
            wire,
            "CreateAppBlock",
            json!({"Name": "tools", "SourceS3Location": {"S3Bucket": "apps", "S3Key": "a.zip"},
                "SetupScriptDetails": {"ScriptS3Location": {"S3Bucket": "apps", "S3Key": "s.ps1"},
                    "ExecutablePath": "s.exe", "TimeoutInSeconds": 60}}),
        )
        .await["AppBlock"]["Arn"]
        .clone();
    s.ok(
        wire,
        "CreateFleet",
        json!({"Name": "fl", "FleetType": "ELASTIC", "Platform": "WINDOWS_SERVER_2019",
            "InstanceType": "stream.standard.small", "MaxConcurrentSessions": 5,
            "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}}),
    )
    .await;
    for (name, display) in [("paint", "Paint <Pro>"), ("notes", "Notes")] {
        let app = s
            .ok(
                wire,
                "CreateApplication",
                json!({"Name": name, "DisplayName": display, "LaunchPath": "C:\\app.exe",
                    "IconS3Location": {"S3Bucket": "apps", "S3Key": "i.png"},
                    "Platforms": ["WINDOWS_SERVER_2019"], "InstanceFamilies": ["GENERAL_PURPOSE"],
                    "AppBlockArn": block}),
            )
            .await["Application"]["Arn"]
            .clone();
        s.ok(
            wire,
            "AssociateApplicationFleet",
            json!({"FleetName": "fl", "ApplicationArn": app}),
        )
        .await;
    }
    s.ok(
        wire,
        "AssociateFleet",
        json!({"StackName": "st", "FleetName": "fl"}),
    )
    .await;
    s.ok(wire, "StartFleet", json!({"Name": "fl"})).await;
    let url = streaming_url(
        &s,
        wire,
        "CreateStreamingURL",
        json!({"StackName": "st", "FleetName": "fl", "UserId": "erin", "ApplicationId": "notes"}),
    )
    .await;
    let (_, page) = follow(&s, &url).await;
    assert!(page.contains("Paint &lt;Pro&gt;"), "{page}");
    assert!(
        page.contains("class=\"app launched\" data-app=\"notes\""),
        "{page}"
    );
    assert!(page.contains("class=\"app\" data-app=\"paint\""), "{page}");
}

#[tokio::test]
async fn the_session_controls_connect_and_disconnect_without_a_browser() {
    let s = fast_server().await;
    stack_and_fleet(&s, Wire::Json).await;
    s.ok(
        Wire::Json,
        "CreateStreamingURL",
        json!({"StackName": "st", "FleetName": "fl", "UserId": "fay"}),
    )
    .await;
    let id = sessions(&s, Wire::Json).await[0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({ "session_id": id }).to_string();
    let (status, refused) = s.control("/_sessions/disconnect", &body).await;
    assert_eq!(status, 400, "a pending session has nothing to disconnect");
    assert!(refused["error"]
        .as_str()
        .unwrap()
        .contains("has not connected"));
    let (status, connected) = s.control("/_sessions/connect", &body).await;
    assert_eq!(status, 200);
    assert_eq!(connected["State"], "ACTIVE");
    assert_eq!(connected["ConnectionState"], "CONNECTED");
    let (status, _) = s.control("/_sessions/disconnect", &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        sessions(&s, Wire::Json).await[0]["ConnectionState"],
        "NOT_CONNECTED"
    );
    let (status, missing) = s
        .control("/_sessions/connect", r#"{"session_id": "nope"}"#)
        .await;
    assert_eq!(status, 404);
    assert!(missing["error"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
}

#[tokio::test]
async fn the_binary_takes_the_streaming_flags_and_refuses_a_bad_base() {
    let log = crate::common::start_up_fails(&[
        "--port",
        "0",
        "--streaming-url-base",
        "appstream:4599/path",
    ]);
    assert!(
        log.contains("invalid --streaming-url-base") && log.contains("http://appstream:4599"),
        "{log}"
    );
    for (flags, expected) in [
        (
            ["--streaming-url-base", "https://streams.test"],
            "https://streams.test/authenticate?parameters=",
        ),
        (
            ["--streaming-url-style", "aws"],
            "https://appstream2.us-east-1.aws.amazon.com/authenticate?parameters=",
        ),
    ] {
        let mut args = vec!["--port", "0", "--transition-seconds", "0"];
        args.extend(flags);
        let (mut child, addr, _) = crate::common::spawn_binary(&args, &[]);
        let s = TestServer::at(&addr);
        stack_and_fleet(&s, Wire::Json).await;
        let url = streaming_url(
            &s,
            Wire::Json,
            "CreateStreamingURL",
            json!({"StackName": "st", "FleetName": "fl", "UserId": "gus"}),
        )
        .await;
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(url.starts_with(expected), "{url}");
    }
}

#[tokio::test]
async fn a_button_body_is_read_within_the_servers_limits() {
    let s = start_with(appstream_local::Config {
        max_body_bytes: 1024,
        ..Default::default()
    })
    .await;
    let (status, _, page) = press(&s, "end", &"x".repeat(2048)).await;
    assert_eq!(status, 413, "{page}");
    assert!(page.contains("HTTP 413"), "{page}");
    let (status, _, page) = press(&s, "end", "parameters=only").await;
    assert_eq!(status, 404);
    assert!(page.contains("not a streaming URL"), "{page}");
}
