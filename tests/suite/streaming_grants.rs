//! What a streaming grant opens, and for how long: only the builder instance it was made
//! for, until its exact expiry, and a session only until its MaxExpirationTime.

use serde_json::json;

use crate::common::{Wire, WIRES};
use crate::streaming::{
    fast_server, follow, open, press, sessions, signed_fields, stack_and_fleet, streaming_url,
};

#[tokio::test]
async fn a_builder_url_never_opens_a_newer_builder_of_the_same_name() {
    for wire in WIRES {
        let s = fast_server().await;
        let create = json!({"Name": "bld", "InstanceType": "stream.standard.large",
            "ImageName": "AppStream-WinServer2022-10-08-2025"});
        s.ok(wire, "CreateImageBuilder", create.clone()).await;
        let url = streaming_url(
            &s,
            wire,
            "CreateImageBuilderStreamingURL",
            json!({"Name": "bld"}),
        )
        .await;
        let (page_url, page) = follow(&s, &url).await;
        let form = format!("{}&image_name=stolen", signed_fields(&page));
        s.ok(wire, "StopImageBuilder", json!({"Name": "bld"})).await;
        s.ok(wire, "DescribeImageBuilders", json!({})).await;
        s.ok(wire, "DeleteImageBuilder", json!({"Name": "bld"}))
            .await;
        s.ok(wire, "DescribeImageBuilders", json!({})).await;
        s.ok(wire, "CreateImageBuilder", create).await;
        s.ok(wire, "DescribeImageBuilders", json!({})).await;

        let (status, _, answer) = open(&url).await;
        assert_eq!(status, 404, "{wire:?}: the old URL: {answer}");
        let (status, _, answer) = open(&page_url).await;
        assert_eq!(status, 404, "{wire:?}: the old page: {answer}");
        let (status, _, _) = press(&s, "create-image", &form).await;
        assert_eq!(status, 404, "{wire:?}: the old page's button");
        let images = s
            .call(wire, "DescribeImages", json!({"Names": ["stolen"]}))
            .await;
        assert_eq!(images.code(), "ResourceNotFoundException", "{wire:?}");
        // A URL for the new builder opens it.
        let url = streaming_url(
            &s,
            wire,
            "CreateImageBuilderStreamingURL",
            json!({"Name": "bld"}),
        )
        .await;
        follow(&s, &url).await;
    }
}

/// A RUNNING app block builder `packer` packaging the app block at `block`.
async fn running_packer(s: &crate::common::TestServer, wire: Wire, block: &serde_json::Value) {
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
    s.ok(wire, "DescribeAppBlockBuilders", json!({})).await;
}

#[tokio::test]
async fn an_app_block_builder_url_never_opens_a_newer_builder_of_the_same_name() {
    for wire in WIRES {
        let s = fast_server().await;
        let block = s
            .ok(
                wire,
                "CreateAppBlock",
                json!({"Name": "office", "PackagingType": "APPSTREAM2",
                    "SourceS3Location": {"S3Bucket": "apps"}}),
            )
            .await["AppBlock"]["Arn"]
            .clone();
        running_packer(&s, wire, &block).await;
        let url = streaming_url(
            &s,
            wire,
            "CreateAppBlockBuilderStreamingURL",
            json!({"AppBlockBuilderName": "packer"}),
        )
        .await;
        let (page_url, page) = follow(&s, &url).await;
        s.ok(wire, "StopAppBlockBuilder", json!({"Name": "packer"}))
            .await;
        s.ok(wire, "DescribeAppBlockBuilders", json!({})).await;
        s.ok(
            wire,
            "DisassociateAppBlockBuilderAppBlock",
            json!({"AppBlockBuilderName": "packer", "AppBlockArn": block}),
        )
        .await;
        s.ok(wire, "DeleteAppBlockBuilder", json!({"Name": "packer"}))
            .await;
        running_packer(&s, wire, &block).await;

        let (status, _, answer) = open(&url).await;
        assert_eq!(status, 404, "{wire:?}: the old URL: {answer}");
        let (status, _, answer) = open(&page_url).await;
        assert_eq!(status, 404, "{wire:?}: the old page: {answer}");
        let (status, _, _) = press(&s, "finish-packaging", &signed_fields(&page)).await;
        assert_eq!(status, 404, "{wire:?}: the old page's button");
        let blocks = s
            .ok(wire, "DescribeAppBlocks", json!({"Arns": [block]}))
            .await;
        assert_eq!(
            blocks["AppBlocks"][0]["State"], "INACTIVE",
            "{wire:?}: not packaged"
        );
    }
}

#[tokio::test]
async fn a_url_is_valid_to_the_millisecond() {
    let s = fast_server().await;
    stack_and_fleet(&s, Wire::Json).await;
    // Rounding the expiry down to a whole second refused about half of these.
    for _ in 0..10 {
        let url = streaming_url(
            &s,
            Wire::Json,
            "CreateStreamingURL",
            json!({"StackName": "st", "FleetName": "fl", "UserId": "user1", "Validity": 1}),
        )
        .await;
        s.control("/_clock", r#"{"advance_seconds": 0.5}"#).await;
        let (status, _, page) = open(&url).await;
        assert_eq!(status, 303, "{page}");
    }
}

#[tokio::test]
async fn a_session_ends_at_its_max_expiration_time() {
    for wire in WIRES {
        let s = fast_server().await;
        stack_and_fleet(&s, wire).await;
        let url = streaming_url(
            &s,
            wire,
            "CreateStreamingURL",
            json!({"StackName": "st", "FleetName": "fl", "UserId": "user1"}),
        )
        .await;
        let (page_url, _) = follow(&s, &url).await;
        assert_eq!(sessions(&s, wire).await[0]["State"], "ACTIVE");
        // The fleet's MaxUserDurationInSeconds is 7200.
        s.control("/_clock", r#"{"advance_seconds": 7199}"#).await;
        assert_eq!(sessions(&s, wire).await.len(), 1, "{wire:?}: not yet");
        s.control("/_clock", r#"{"advance_seconds": 2}"#).await;
        assert!(sessions(&s, wire).await.is_empty(), "{wire:?}: ended");
        let (status, _, page) = open(&page_url).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Session ended") && page.contains("maximum duration"),
            "{wire:?}: {page}"
        );
    }
}
