//! The test control plane: fault rules (errors, latency, failing transitions), the
//! request history, the movable clock and seeded state.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{start, start_with, TestServer, WIRES};
pub(crate) async fn add_rules(s: &TestServer, rules: Value) -> Value {
    let (status, body) = s
        .control("/_faults", &json!({ "rules": rules }).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) async fn get_json(s: &TestServer, path: &str) -> Value {
    serde_json::from_slice(&s.get(path).await.bytes().await.unwrap()).unwrap()
}

pub(crate) async fn delete(s: &TestServer, path: &str) -> (u16, Value) {
    let reply = s
        .http()
        .delete(format!("{}{path}", s.url))
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (
        status,
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn an_error_rule_answers_on_each_protocol_counts_and_changes_nothing() {
    for wire in WIRES {
        let s = start().await;
        let added = add_rules(
            &s,
            json!([
                {"operation": "CreateStack", "count": 2,
                 "error": {"code": "LimitExceededException", "message": "Too many stacks."}},
                {"operation": "*", "region": "eu-west-1",
                 "error": {"code": "ServiceUnavailableException", "status": 503}}
            ]),
        )
        .await;
        assert_eq!(added["rules"][0]["id"], "1");
        assert_eq!(added["rules"][1]["id"], "2");
        // The modeled code takes the model's status; the message is the rule's.
        let message = s
            .fails(
                wire,
                "CreateStack",
                json!({"Name": "s"}),
                400,
                "LimitExceededException",
            )
            .await;
        assert_eq!(message, "Too many stacks.");
        s.fails(
            wire,
            "CreateStack",
            json!({"Name": "s"}),
            400,
            "LimitExceededException",
        )
        .await;
        let none = s.ok(wire, "DescribeStacks", json!({})).await;
        assert_eq!(
            none["Stacks"],
            json!([]),
            "an injected error changes nothing"
        );
        // Its count spent, the rule stays listed and the operation runs again.
        s.ok(wire, "CreateStack", json!({"Name": "s"})).await;
        let listed = get_json(&s, "/_faults").await;
        assert_eq!(listed["rules"][0]["fired"], 2);
        assert_eq!(listed["rules"][1]["fired"], 0);
        // The Region filter: only eu-west-1, with the given status.
        let reply = s
            .json_as(
                "DescribeStacks",
                json!({}),
                Some(("000000000000", "eu-west-1")),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (503, "ServiceUnavailableException")
        );
        assert_eq!(
            reply.header("x-amzn-errortype"),
            "ServiceUnavailableException"
        );
        // Removing one, then all.
        assert_eq!(delete(&s, "/_faults/2").await.0, 200);
        assert_eq!(delete(&s, "/_faults/2").await.0, 404);
        let reply = s
            .json_as(
                "DescribeStacks",
                json!({}),
                Some(("000000000000", "eu-west-1")),
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(delete(&s, "/_faults").await.1, json!({"rules": []}));
        assert_eq!(get_json(&s, "/_faults").await, json!({"rules": []}));
    }
}

#[tokio::test]
async fn a_malformed_rule_is_refused_whole_naming_the_field() {
    let s = start().await;
    let cases = [
        (
            json!({"rules": [{"operation": "CreateStack", "error": {"code": "X"}},
            {"operation": "CreateStak", "error": {"code": "X"}}]}),
            "rules[1].operation",
        ),
        (
            json!({"rules": [{"operation": "*", "probability": 2, "latency_ms": 5}]}),
            "rules[0].probability",
        ),
        (
            json!({"rules": [{"operation": "*", "probability": "often", "latency_ms": 5}]}),
            "rules[0].probability",
        ),
        (json!({"rules": [{"operation": "*"}]}), "rules[0]"),
        (
            json!({"rules": [{"operation": "*", "colour": "red", "latency_ms": 5}]}),
            "rules[0].colour",
        ),
        (
            json!({"rules": [{"operation": "*", "count": 0, "latency_ms": 5}]}),
            "rules[0].count",
        ),
        (
            json!({"rules": [{"operation": "*", "error": {"code": "no spaces"}}]}),
            "rules[0].error.code",
        ),
        (
            json!({"rules": [{"operation": "*", "error": {"code": "X", "status": 200}}]}),
            "rules[0].error.status",
        ),
        (
            json!({"rules": [{"operation": "CreateStack", "transition_failure": {"code": "X"}}]}),
            "rules[0].transition_failure",
        ),
        (
            json!({"rules": [{"operation": "StartFleet", "transition_failure": {"code": "BOOM"}}]}),
            "rules[0].transition_failure.code",
        ),
        (
            json!({"rules": [{"operation": "*", "account": "me", "latency_ms": 5}]}),
            "rules[0].account",
        ),
        (json!({"rule": []}), "rule"),
    ];
    for (body, field) in cases {
        let (status, reply) = s.control("/_faults", &body.to_string()).await;
        assert_eq!(status, 400, "{body}: {reply}");
        let error = reply["error"].as_str().unwrap();
        assert!(
            error.contains(field),
            "{body}: '{error}' does not name {field}"
        );
    }
    assert_eq!(get_json(&s, "/_faults").await, json!({"rules": []}));

    // Every request scans the rules: at most 1,000 are in force.
    let rules = |n: usize| json!({"rules": vec![json!({"operation": "*", "latency_ms": 1}); n]});
    assert_eq!(s.control("/_faults", &rules(1001).to_string()).await.0, 400);
    assert_eq!(s.control("/_faults", &rules(600).to_string()).await.0, 200);
    let (status, refused) = s.control("/_faults", &rules(600).to_string()).await;
    assert_eq!(status, 400);
    assert!(
        refused["error"].as_str().unwrap().contains("600 are"),
        "{refused}"
    );
    assert_eq!(
        get_json(&s, "/_faults").await["rules"]
            .as_array()
            .unwrap()
            .len(),
        600
    );
}

#[tokio::test]
async fn the_rust_sdk_retries_an_injected_throttle_and_the_history_shows_each_attempt() {
    let s = start().await;
    add_rules(
        &s,
        json!([{"operation": "DescribeStacks", "count": 2,
            "error": {"code": "ThrottlingException", "message": "Rate exceeded"}}]),
    )
    .await;
    let described = s.sdk().describe_stacks().send().await;
    assert!(described.is_ok(), "{described:?}");
    let history = get_json(&s, "/_requests?operation=DescribeStacks").await;
    let attempts: Vec<(u64, &str)> = history["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_u64().unwrap(),
                r["fault"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(attempts, [(400, "1"), (400, "1"), (200, "-")]);
    assert_eq!(history["requests"][0]["error"], "ThrottlingException");
    assert_eq!(history["requests"][0]["protocol"], "rpcv2Cbor");
}

#[tokio::test]
async fn latency_delays_its_own_answer_and_no_one_else() {
    let s = start().await;
    add_rules(
        &s,
        json!([{"operation": "CreateStack", "account": "111111111111", "latency_ms": 600}]),
    )
    .await;
    let slow_tenant = Some(("111111111111", "us-east-1"));
    let started = Instant::now();
    let slow = s.json_as("CreateStack", json!({"Name": "slow"}), slow_tenant);
    let others = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The same account and Region: the delayed write holds no lock.
        let read = s
            .json_as("DescribeStacks", json!({"Names": ["slow"]}), slow_tenant)
            .await;
        let other = s.json("CreateStack", json!({"Name": "quick"})).await;
        (read, other, started.elapsed())
    };
    let (slow, (read, other, others_done)) = tokio::join!(slow, others);
    assert_eq!(slow.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert!(
        others_done < Duration::from_millis(450),
        "other requests waited {others_done:?}"
    );
    // The operation ran before its answer was delayed.
    assert_eq!(read.body["Stacks"][0]["Name"], "slow");
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn a_failed_fleet_start_stops_the_rust_sdk_waiter_with_fleet_errors() {
    use aws_sdk_appstream::client::Waiters;
    let s = start_with(appstream_local::Config {
        transition_delay: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    add_rules(
        &s,
        json!([{"operation": "StartFleet", "count": 1, "transition_failure":
            {"code": "NETWORK_INTERFACE_LIMIT_EXCEEDED", "message": "No more ENIs."}}]),
    )
    .await;
    let c = s.fast_sdk();
    c.create_fleet()
        .name("f")
        .image_name("AppStream-WinServer2022-10-08-2025")
        .instance_type("stream.standard.medium")
        .compute_capacity(
            aws_sdk_appstream::types::ComputeCapacity::builder()
                .desired_instances(1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.start_fleet().name("f").send().await.unwrap();
    let waited = c
        .wait_until_fleet_started()
        .names("f")
        .wait(Duration::from_secs(60))
        .await;
    let failure = format!("{waited:?}");
    assert!(failure.contains("FailureState"), "{failure}");
    let fleet = c.describe_fleets().names("f").send().await.unwrap();
    let fleet = &fleet.fleets()[0];
    assert_eq!(fleet.state().map(|s| s.as_str()), Some("STOPPED"));
    let error = &fleet.fleet_errors()[0];
    assert_eq!(
        error.error_code().map(|c| c.as_str()),
        Some("NETWORK_INTERFACE_LIMIT_EXCEEDED")
    );
    assert_eq!(error.error_message(), Some("No more ENIs."));
    // The rule is spent: the next start succeeds and clears the errors.
    c.start_fleet().name("f").send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let fleet = c.describe_fleets().names("f").send().await.unwrap();
    assert_eq!(
        fleet.fleets()[0].state().map(|s| s.as_str()),
        Some("RUNNING")
    );
    assert!(fleet.fleets()[0].fleet_errors().is_empty());
}

#[tokio::test]
async fn failed_transitions_of_builders_images_and_exports_report_as_aws_does() {
    for wire in WIRES {
        let s = start_with(appstream_local::Config {
            transition_delay: Duration::from_millis(50),
            ..Default::default()
        })
        .await;
        add_rules(
            &s,
            json!([
                {"operation": "CreateImageBuilder", "transition_failure": {"code": "SUBNET_NOT_FOUND", "message": "no subnet"}},
                {"operation": "CopyImage", "transition_failure": {"code": "IMAGE_COPY_FAILURE", "message": "copy broke"}},
                {"operation": "CreateExportImageTask", "transition_failure": {"code": "AmiLimitExceeded", "message": "too many AMIs"}},
                {"operation": "StartAppBlockBuilder", "transition_failure": {"code": "INTERNAL_SERVICE_ERROR", "message": "no capacity"}}
            ]),
        )
        .await;
        s.ok(wire, "CreateImageBuilder", json!({"Name": "b",
            "ImageName": "AppStream-WinServer2022-10-08-2025", "InstanceType": "stream.standard.large"}))
            .await;
        s.ok(
            wire,
            "CreateUpdatedImage",
            json!({"existingImageName": "AppStream-WinServer2022-10-08-2025", "newImageName": "golden"}),
        )
        .await;
        s.ok(
            wire,
            "CreateAppBlockBuilder",
            json!({"Name": "ab", "Platform": "WINDOWS_SERVER_2019",
            "InstanceType": "stream.standard.large", "VpcConfig": {"SubnetIds": ["s-1", "s-2"]}}),
        )
        .await;
        s.ok(
            wire,
            "CreateAppBlock",
            json!({"Name": "blk", "PackagingType": "APPSTREAM2",
            "SourceS3Location": {"S3Bucket": "apps"}}),
        )
        .await;
        s.ok(
            wire,
            "AssociateAppBlockBuilderAppBlock",
            json!({"AppBlockBuilderName": "ab",
            "AppBlockArn": "arn:aws:appstream:us-east-1:000000000000:app-block/blk"}),
        )
        .await;
        s.ok(wire, "StartAppBlockBuilder", json!({"Name": "ab"}))
            .await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        s.ok(
            wire,
            "CopyImage",
            json!({"SourceImageName": "golden", "DestinationImageName": "golden-2", "DestinationRegion": "us-east-1"}),
        )
        .await;
        let task = s
            .ok(
                wire,
                "CreateExportImageTask",
                json!({"ImageName": "golden", "AmiName": "golden-ami",
                    "IamRoleArn": "arn:aws:iam::000000000000:role/x"}),
            )
            .await["ExportImageTask"]["TaskId"]
            .clone();
        tokio::time::sleep(Duration::from_millis(80)).await;

        let builder = &s
            .ok(wire, "DescribeImageBuilders", json!({"Names": ["b"]}))
            .await["ImageBuilders"][0];
        assert_eq!(builder["State"], "FAILED");
        assert_eq!(
            builder["ImageBuilderErrors"][0]["ErrorCode"],
            "SUBNET_NOT_FOUND"
        );
        assert_eq!(builder["StateChangeReason"]["Code"], "INTERNAL_ERROR");
        assert_eq!(builder["StateChangeReason"]["Message"], "no subnet");
        let copy = &s
            .ok(wire, "DescribeImages", json!({"Names": ["golden-2"]}))
            .await["Images"][0];
        assert_eq!(copy["State"], "FAILED");
        assert_eq!(copy["StateChangeReason"]["Code"], "IMAGE_COPY_FAILURE");
        let golden = &s
            .ok(wire, "DescribeImages", json!({"Names": ["golden"]}))
            .await["Images"][0];
        assert_eq!(
            golden["State"], "AVAILABLE",
            "no rule for CreateUpdatedImage"
        );
        let export = &s
            .ok(wire, "GetExportImageTask", json!({"TaskId": task}))
            .await["ExportImageTask"];
        assert_eq!(export["State"], "FAILED");
        assert!(export.get("AmiId").is_none(), "{export}");
        assert_eq!(
            export["ErrorDetails"],
            json!([{"ErrorCode": "AmiLimitExceeded", "ErrorMessage": "too many AMIs"}])
        );
        let builder = &s
            .ok(wire, "DescribeAppBlockBuilders", json!({"Names": ["ab"]}))
            .await["AppBlockBuilders"][0];
        assert_eq!(builder["State"], "STOPPED");
        assert_eq!(
            builder["AppBlockBuilderErrors"][0]["ErrorMessage"],
            "no capacity"
        );
    }
}
