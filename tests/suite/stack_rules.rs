//! The rules stacks keep beyond create, describe, update and delete: tags and their
//! limit, the model's prose rules, quotas and the application settings bucket.

use crate::common;

use crate::common::{start, Wire, WIRES};
use serde_json::{json, Value};

#[tokio::test]
async fn tags_overwrite_merge_untag_and_respect_the_limit_of_50() {
    for wire in WIRES {
        let s = start().await;
        let arn = s
            .ok(
                wire,
                "CreateStack",
                json!({"Name": "tagged", "Tags": {"a": "1", "b": "2"}}),
            )
            .await["Stack"]["Arn"]
            .clone();
        s.ok(
            wire,
            "TagResource",
            json!({"ResourceArn": arn, "Tags": {"b": "two", "c": ""}}),
        )
        .await;
        assert_eq!(
            s.ok(wire, "ListTagsForResource", json!({"ResourceArn": arn}))
                .await["Tags"],
            json!({"a": "1", "b": "two", "c": ""})
        );
        s.ok(
            wire,
            "UntagResource",
            json!({"ResourceArn": arn, "TagKeys": ["a", "not-there"]}),
        )
        .await;
        assert_eq!(
            s.ok(wire, "ListTagsForResource", json!({"ResourceArn": arn}))
                .await["Tags"],
            json!({"b": "two", "c": ""})
        );

        let many: serde_json::Map<String, Value> =
            (0..48).map(|i| (format!("k{i}"), json!("v"))).collect();
        s.ok(
            wire,
            "TagResource",
            json!({"ResourceArn": arn, "Tags": many}),
        )
        .await; // 50 in all
        s.ok(
            wire,
            "TagResource",
            json!({"ResourceArn": arn, "Tags": {"k0": "overwrite"}}),
        )
        .await;
        s.fails(
            wire,
            "TagResource",
            json!({"ResourceArn": arn, "Tags": {"one-too-many": "x"}}),
            400,
            "LimitExceededException",
        )
        .await;
        let tags = s
            .ok(wire, "ListTagsForResource", json!({"ResourceArn": arn}))
            .await["Tags"]
            .clone();
        assert_eq!(tags.as_object().unwrap().len(), 50);
        assert!(tags.get("one-too-many").is_none());

        let msg = s
            .fails(
                wire,
                "TagResource",
                json!({"ResourceArn": arn, "Tags": {"aws:reserved": "x"}}),
                400,
                "ValidationException",
            )
            .await;
        assert!(msg.contains("Map keys must satisfy constraint"), "{msg}");

        let ghost = "arn:aws:appstream:us-east-1:000000000000:stack/ghost";
        for (op, body) in [
            (
                "TagResource",
                json!({"ResourceArn": ghost, "Tags": {"a": "b"}}),
            ),
            (
                "UntagResource",
                json!({"ResourceArn": ghost, "TagKeys": ["a"]}),
            ),
            ("ListTagsForResource", json!({"ResourceArn": ghost})),
        ] {
            s.fails(wire, op, body, 404, "ResourceNotFoundException")
                .await;
        }
        // An ARN of this stack's name in another region is another resource.
        let elsewhere = "arn:aws:appstream:eu-west-1:000000000000:stack/tagged";
        s.fails(
            wire,
            "ListTagsForResource",
            json!({"ResourceArn": elsewhere}),
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}

#[tokio::test]
async fn rules_stated_in_the_model_prose_are_enforced() {
    for wire in WIRES {
        let s = start().await;
        let cases = [
            (json!({"Name": "r1", "UserSettings": [{"Action": "FILE_UPLOAD", "Permission": "ENABLED", "MaximumLength": 10}]}), "InvalidParameterCombinationException", "CLIPBOARD"),
            (json!({"Name": "r2", "UserSettings": [{"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "DISABLED", "MaximumLength": 10}]}), "InvalidParameterCombinationException", "DISABLED"),
            (json!({"Name": "r3", "UserSettings": [{"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "ENABLED", "MaximumLength": 20_971_521}]}), "ValidationException", "Value '20971521' at 'userSettings.1.member.maximumLength' failed to satisfy constraint: Member must have value less than or equal to 20971520"),
            (json!({"Name": "r4", "UserSettings": [{"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "ENABLED", "MaximumLength": 0}]}), "ValidationException", "Member must have value greater than or equal to 1"),
            (json!({"Name": "r5", "StorageConnectors": [{"ConnectorType": "GOOGLE_DRIVE", "DomainsRequireAdminConsent": ["example.com"]}]}), "InvalidParameterCombinationException", "ONE_DRIVE"),
            (json!({"Name": "r6", "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "DISABLED"}], "ScreenResolution": "W_1280xH_720", "ScreenImageFormat": "PNG"}}), "InvalidParameterCombinationException", "at least one"),
            (json!({"Name": "r7", "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}], "ScreenshotsUploadEnabled": true, "ScreenResolution": "W_1280xH_720", "ScreenImageFormat": "PNG"}}), "InvalidParameterCombinationException", "S3BucketArn"),
            (json!({"Name": "r8", "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_INPUT", "Permission": "ENABLED"}], "ReplaySessionEnabled": true, "S3BucketArn": "arn:aws:s3:::b-1", "ScreenResolution": "W_1280xH_720", "ScreenImageFormat": "PNG"}}), "InvalidParameterCombinationException", "COMPUTER_VISION"),
            (json!({"Name": "r9", "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}], "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k", "ScreenResolution": "W_1280xH_720", "ScreenImageFormat": "PNG"}}), "InvalidParameterCombinationException", "ReplaySessionEnabled"),
            (json!({"Name": "r10", "UserSettings": [{"Action": "FILE_UPLOAD", "Permission": "ENABLED"}, {"Action": "FILE_UPLOAD", "Permission": "DISABLED"}]}), "InvalidParameterCombinationException", "more than once"),
            (
                json!({"Name": "r11", "StorageConnectors": [{"ConnectorType": "HOMEFOLDERS"}, {"ConnectorType": "HOMEFOLDERS"}]}),
                "InvalidParameterCombinationException",
                "more than once",
            ),
        ];
        for (input, code, text) in cases {
            let name = input["Name"].clone();
            let msg = s.fails(wire, "CreateStack", input, 400, code).await;
            assert!(msg.contains(text), "{wire:?} {name}: {msg}");
            s.fails(
                wire,
                "DescribeStacks",
                json!({"Names": [name]}),
                404,
                "ResourceNotFoundException",
            )
            .await;
        }
        // The same rules hold on update, and partial agent-access updates merge.
        s.ok(wire, "CreateStack", json!({"Name": "agent", "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}], "ScreenResolution": "W_1280xH_720", "ScreenImageFormat": "PNG"}})).await;
        s.fails(wire, "UpdateStack", json!({"Name": "agent", "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "DISABLED"}]}}), 400, "InvalidParameterCombinationException").await;
        let merged = s.ok(wire, "UpdateStack", json!({"Name": "agent", "AgentAccessConfig": {"Settings": [{"AgentAction": "FORWARD_MCP_TOOLS", "Permission": "ENABLED"}], "ScreenImageFormat": "JPEG"}})).await;
        let config = &merged["Stack"]["AgentAccessConfig"];
        assert_eq!(config["Settings"].as_array().unwrap().len(), 2, "{config}");
        assert_eq!(config["ScreenImageFormat"], "JPEG");
        assert_eq!(config["ScreenResolution"], "W_1280xH_720");
        s.fails(wire, "UpdateStack", json!({"Name": "agent", "UserSettings": [{"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "ENABLED", "MaximumLength": 5}]}), 400, "InvalidParameterCombinationException").await;
    }
}

#[tokio::test]
async fn quotas_apply_only_when_enabled() {
    let relaxed = start().await;
    for i in 0..11 {
        relaxed
            .ok(Wire::Json, "CreateStack", json!({"Name": format!("q{i}")}))
            .await;
    }
    let strict = common::start_with(appstream_local::Config {
        enforce_quotas: true,
        ..Default::default()
    })
    .await;
    for i in 0..10 {
        strict
            .ok(Wire::Cbor, "CreateStack", json!({"Name": format!("q{i}")}))
            .await;
    }
    for wire in WIRES {
        strict
            .fails(
                wire,
                "CreateStack",
                json!({"Name": "q10"}),
                400,
                "LimitExceededException",
            )
            .await;
    }
    strict
        .ok(Wire::Json, "DeleteStack", json!({"Name": "q0"}))
        .await;
    strict
        .ok(Wire::Json, "CreateStack", json!({"Name": "q10"}))
        .await;
}

#[tokio::test]
async fn one_application_settings_bucket_serves_every_stack_of_an_account_and_region() {
    let s = start().await;
    for wire in [Wire::Json, Wire::Cbor] {
        let bucket = |stack: &Value| {
            stack["Stack"]["ApplicationSettings"]["S3BucketName"]
                .as_str()
                .map(str::to_string)
        };
        let settings = json!({"Enabled": true, "SettingsGroup": "g"});
        let a = s
            .ok(
                wire,
                "CreateStack",
                json!({"Name": "a", "ApplicationSettings": settings}),
            )
            .await;
        let b = s
            .ok(
                wire,
                "CreateStack",
                json!({"Name": "b", "ApplicationSettings": settings}),
            )
            .await;
        let first = bucket(&a).expect("an enabled stack has a bucket");
        assert_eq!(bucket(&b), Some(first.clone()), "{wire:?}: a second bucket");
        let disabled = s
            .ok(
                wire,
                "UpdateStack",
                json!({"Name": "a", "ApplicationSettings": {"Enabled": false}}),
            )
            .await;
        assert_eq!(bucket(&disabled), None);
        let enabled = s
            .ok(
                wire,
                "UpdateStack",
                json!({"Name": "a", "ApplicationSettings": settings}),
            )
            .await;
        assert_eq!(
            bucket(&enabled),
            Some(first),
            "{wire:?}: re-enabling made a new bucket"
        );
        // Another Region has its own.
        let elsewhere = s
            .json_as(
                "CreateStack",
                json!({"Name": "a", "ApplicationSettings": settings}),
                Some(("AKID", "eu-west-1")),
            )
            .await;
        let other = elsewhere.body["Stack"]["ApplicationSettings"]["S3BucketName"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            other.starts_with("appstream-app-settings-eu-west-1-000000000000-"),
            "{other}"
        );
        s.control("/_reset", "").await;
    }
}
