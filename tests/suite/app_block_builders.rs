//! App block builders: created STOPPED, started only with their one APPSTREAM2 app
//! block, the documented update rules by state, and what cannot go while in use.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{start_with, TestServer, Wire, WIRES};

fn builder(name: &str) -> Value {
    json!({"Name": name, "Platform": "WINDOWS_SERVER_2019", "InstanceType": "stream.standard.medium",
        "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}, "Tags": {"team": "packaging"}})
}

async fn state_of(s: &TestServer, wire: Wire, name: &str) -> String {
    let described = s
        .ok(wire, "DescribeAppBlockBuilders", json!({"Names": [name]}))
        .await;
    described["AppBlockBuilders"][0]["State"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn app_block_builders_package_one_app_block_through_their_lifecycle() {
    for wire in WIRES {
        let s = start_with(appstream_local::Config {
            transition_delay: Duration::from_millis(200),
            ..Default::default()
        })
        .await;
        let mut one_subnet = builder("b");
        one_subnet["VpcConfig"] = json!({"SubnetIds": ["subnet-1"]});
        s.fails(
            wire,
            "CreateAppBlockBuilder",
            one_subnet,
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let mut compute = builder("b");
        compute["InstanceType"] = json!("stream.compute.large");
        s.fails(
            wire,
            "CreateAppBlockBuilder",
            compute,
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let created =
            s.ok(wire, "CreateAppBlockBuilder", builder("b")).await["AppBlockBuilder"].clone();
        assert_eq!(created["State"], "STOPPED");
        assert_eq!(
            created["Arn"],
            "arn:aws:appstream:us-east-1:000000000000:app-block-builder/b"
        );
        let tags = s
            .ok(
                wire,
                "ListTagsForResource",
                json!({"ResourceArn": created["Arn"]}),
            )
            .await;
        assert_eq!(tags["Tags"], json!({"team": "packaging"}));

        // No app block, no start; only APPSTREAM2 blocks can be associated.
        s.fails(
            wire,
            "StartAppBlockBuilder",
            json!({"Name": "b"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        let custom = s
            .ok(
                wire,
                "CreateAppBlock",
                json!({"Name": "custom",
            "SourceS3Location": {"S3Bucket": "apps", "S3Key": "a.zip"},
            "SetupScriptDetails": {"ScriptS3Location": {"S3Bucket": "apps", "S3Key": "s.ps1"},
                "ExecutablePath": "s.exe", "TimeoutInSeconds": 60}}),
            )
            .await["AppBlock"]["Arn"]
            .clone();
        s.fails(
            wire,
            "AssociateAppBlockBuilderAppBlock",
            json!({"AppBlockBuilderName": "b", "AppBlockArn": custom}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let block = s
            .ok(
                wire,
                "CreateAppBlock",
                json!({"Name": "office", "PackagingType": "APPSTREAM2",
            "SourceS3Location": {"S3Bucket": "apps"}}),
            )
            .await["AppBlock"]["Arn"]
            .clone();
        let pair = json!({"AppBlockBuilderName": "b", "AppBlockArn": block});
        let association = s
            .ok(wire, "AssociateAppBlockBuilderAppBlock", pair.clone())
            .await;
        assert_eq!(association["AppBlockBuilderAppBlockAssociation"], pair);
        // One block per builder, one builder per block.
        s.ok(wire, "CreateAppBlockBuilder", builder("other")).await;
        s.fails(
            wire,
            "AssociateAppBlockBuilderAppBlock",
            json!({"AppBlockBuilderName": "other", "AppBlockArn": block}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let listed = s
            .ok(
                wire,
                "DescribeAppBlockBuilderAppBlockAssociations",
                json!({"AppBlockArn": block}),
            )
            .await;
        assert_eq!(listed["AppBlockBuilderAppBlockAssociations"], json!([pair]));

        // STOPPED -> STARTING -> RUNNING; while RUNNING only names and descriptions change.
        let started = s
            .ok(wire, "StartAppBlockBuilder", json!({"Name": "b"}))
            .await;
        assert_eq!(started["AppBlockBuilder"]["State"], "STARTING");
        s.fails(
            wire,
            "UpdateAppBlockBuilder",
            json!({"Name": "b", "DisplayName": "x"}),
            400,
            "ResourceInUseException",
        )
        .await;
        s.fails(
            wire,
            "CreateAppBlockBuilderStreamingURL",
            json!({"AppBlockBuilderName": "b"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(state_of(&s, wire, "b").await, "RUNNING");
        let url = s
            .ok(
                wire,
                "CreateAppBlockBuilderStreamingURL",
                json!({"AppBlockBuilderName": "b"}),
            )
            .await;
        let link = url["StreamingURL"].as_str().unwrap();
        assert!(
            link.starts_with(&format!("{}/authenticate?", s.url)),
            "{link}"
        );
        s.ok(
            wire,
            "UpdateAppBlockBuilder",
            json!({"Name": "b", "DisplayName": "Packager"}),
        )
        .await;
        s.fails(
            wire,
            "UpdateAppBlockBuilder",
            json!({"Name": "b", "InstanceType": "stream.standard.large"}),
            400,
            "ResourceInUseException",
        )
        .await;
        s.fails(
            wire,
            "DisassociateAppBlockBuilderAppBlock",
            pair.clone(),
            400,
            "OperationNotPermittedException",
        )
        .await;
        s.fails(
            wire,
            "DeleteAppBlockBuilder",
            json!({"Name": "b"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        s.fails(
            wire,
            "DeleteAppBlock",
            json!({"Name": "office"}),
            400,
            "ResourceInUseException",
        )
        .await;

        // STOPPING -> STOPPED, then the block can go and so can the builder.
        let stopped = s
            .ok(wire, "StopAppBlockBuilder", json!({"Name": "b"}))
            .await;
        assert_eq!(stopped["AppBlockBuilder"]["State"], "STOPPING");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(state_of(&s, wire, "b").await, "STOPPED");
        let updated = s
            .ok(
                wire,
                "UpdateAppBlockBuilder",
                json!({"Name": "b", "InstanceType": "stream.standard.large",
                "AttributesToDelete": ["IAM_ROLE_ARN"]}),
            )
            .await;
        assert_eq!(
            updated["AppBlockBuilder"]["InstanceType"],
            "stream.standard.large"
        );
        s.fails(
            wire,
            "DeleteAppBlockBuilder",
            json!({"Name": "b"}),
            400,
            "ResourceInUseException",
        )
        .await;
        s.ok(wire, "DisassociateAppBlockBuilderAppBlock", pair.clone())
            .await;
        s.fails(
            wire,
            "DisassociateAppBlockBuilderAppBlock",
            pair,
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(wire, "DeleteAppBlockBuilder", json!({"Name": "b"}))
            .await;
        let left = s.ok(wire, "DescribeAppBlockBuilders", json!({})).await;
        assert_eq!(left["AppBlockBuilders"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn finishing_packaging_makes_the_running_builders_app_block_active() {
    const FINISH: &str = "/_app-block-builders/finish-packaging";
    let wire = WIRES[0];
    let s = start_with(appstream_local::Config {
        transition_delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    s.ok(wire, "CreateAppBlockBuilder", builder("b")).await;
    let block = s
        .ok(
            wire,
            "CreateAppBlock",
            json!({"Name": "office", "PackagingType": "APPSTREAM2",
        "SourceS3Location": {"S3Bucket": "apps"}}),
        )
        .await["AppBlock"]["Arn"]
        .clone();
    // A clear 4xx for a builder that is unknown, not RUNNING, or a bad body.
    let (status, body) = s.control(FINISH, r#"{"name": "nope"}"#).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = s.control(FINISH, r#"{"name": "b"}"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("STOPPED"),
        "{body}"
    );
    let (status, body) = s.control(FINISH, r#"{"builder": "b"}"#).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = s
        .control(FINISH, r#"{"name": "b", "account": "000000000000"}"#)
        .await;
    assert_eq!(status, 400);

    s.ok(
        wire,
        "AssociateAppBlockBuilderAppBlock",
        json!({"AppBlockBuilderName": "b", "AppBlockArn": block}),
    )
    .await;
    s.ok(wire, "StartAppBlockBuilder", json!({"Name": "b"}))
        .await;
    assert_eq!(state_of(&s, wire, "b").await, "RUNNING");
    let (status, body) = s
        .control(
            FINISH,
            r#"{"name": "b", "account": "000000000000", "region": "us-east-1"}"#,
        )
        .await;
    assert_eq!((status, &body["State"]), (200, &json!("ACTIVE")), "{body}");
    let described = s
        .ok(wire, "DescribeAppBlocks", json!({"Arns": [block]}))
        .await;
    assert_eq!(described["AppBlocks"][0]["State"], "ACTIVE");
}
