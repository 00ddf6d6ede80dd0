//! The flows people script and Terraform drives, over both wire protocols: fleets from
//! images, start/stop lifecycles, stack associations, users, streaming URLs and
//! sessions, torn down in order — and each wrong order answered as the service does.

use std::time::{Duration, Instant};

use crate::common::{cbor_epoch, start_with, TestServer, Wire, WIRES};
use serde_json::{json, Value};
pub(crate) const IMAGE: &str = "AppStream-WinServer2022-10-08-2025";

pub(crate) async fn server() -> TestServer {
    start_with(appstream_local::Config {
        transition_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await
}

/// Polls `describe` until `field` reads `target`; returns every distinct value seen, in order.
pub(crate) async fn poll_until(
    s: &TestServer,
    wire: Wire,
    operation: &str,
    body: Value,
    pick: impl Fn(&Value) -> Value,
    target: &str,
) -> Vec<String> {
    let started = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let out = s.ok(wire, operation, body.clone()).await;
        let value = pick(&out).as_str().unwrap_or("<gone>").to_string();
        if seen.last() != Some(&value) {
            seen.push(value.clone());
        }
        if value == target {
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{wire:?}: stuck at {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub(crate) async fn fleet_states(
    s: &TestServer,
    wire: Wire,
    name: &str,
    target: &str,
) -> Vec<String> {
    poll_until(
        s,
        wire,
        "DescribeFleets",
        json!({"Names": [name]}),
        |o| o["Fleets"][0]["State"].clone(),
        target,
    )
    .await
}

#[tokio::test]
async fn the_whole_streaming_flow_in_order_and_every_wrong_order_refused() {
    for wire in WIRES {
        let s = server().await;
        s.ok(wire, "CreateStack", json!({"Name": "st"})).await;
        let fleet = s
            .ok(
                wire,
                "CreateFleet",
                json!({
                    "Name": "fl",
                    "ImageName": IMAGE,
                    "InstanceType": "stream.standard.small",
                    "FleetType": "ON_DEMAND",
                    "ComputeCapacity": {"DesiredInstances": 2},
                    "Tags": {"team": "qa"}
                }),
            )
            .await["Fleet"]
            .clone();
        assert_eq!(
            fleet["Arn"],
            "arn:aws:appstream:us-east-1:000000000000:fleet/fl"
        );
        assert_eq!(fleet["State"], "STOPPED");
        assert_eq!(
            fleet["ImageArn"],
            format!("arn:aws:appstream:us-east-1::image/{IMAGE}")
        );
        assert_eq!(fleet["Platform"], "WINDOWS_SERVER_2022");
        assert_eq!(
            fleet["ComputeCapacityStatus"],
            json!({"Desired": 2, "Running": 0, "InUse": 0, "Available": 0})
        );
        assert_eq!(
            (
                fleet["MaxUserDurationInSeconds"].as_i64(),
                fleet["DisconnectTimeoutInSeconds"].as_i64()
            ),
            (Some(57600), Some(900))
        );
        cbor_epoch(wire, &fleet["CreatedTime"]);
        assert_eq!(
            s.ok(
                wire,
                "ListTagsForResource",
                json!({"ResourceArn": fleet["Arn"]})
            )
            .await["Tags"],
            json!({"team": "qa"})
        );

        // A streaming URL needs the fleet associated and running.
        let url_request = json!({"StackName": "st", "FleetName": "fl", "UserId": "alice"});
        s.fails(
            wire,
            "CreateStreamingURL",
            url_request.clone(),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        s.ok(
            wire,
            "AssociateFleet",
            json!({"StackName": "st", "FleetName": "fl"}),
        )
        .await;
        s.fails(
            wire,
            "CreateStreamingURL",
            url_request.clone(),
            400,
            "ResourceNotAvailableException",
        )
        .await;
        assert_eq!(
            s.ok(wire, "ListAssociatedFleets", json!({"StackName": "st"}))
                .await["Names"],
            json!(["fl"])
        );
        assert_eq!(
            s.ok(wire, "ListAssociatedStacks", json!({"FleetName": "fl"}))
                .await["Names"],
            json!(["st"])
        );

        s.ok(wire, "StartFleet", json!({"Name": "fl"})).await;
        assert_eq!(
            fleet_states(&s, wire, "fl", "RUNNING").await,
            ["STARTING", "RUNNING"],
            "{wire:?}"
        );
        let running =
            s.ok(wire, "DescribeFleets", json!({"Names": ["fl"]})).await["Fleets"][0].clone();
        assert_eq!(running["ComputeCapacityStatus"]["Running"], 2);
        assert_eq!(running["ComputeCapacityStatus"]["Available"], 2);

        // Users of the pool, associated in one batch; per-entry failures under `errors`.
        s.ok(wire, "CreateUser", json!({"UserName": "alice@example.com", "AuthenticationType": "USERPOOL", "FirstName": "Alice"})).await;
        let batch = s
            .ok(
                wire,
                "BatchAssociateUserStack",
                json!({"UserStackAssociations": [
                    {"StackName": "st", "UserName": "alice@example.com", "AuthenticationType": "USERPOOL"},
                    {"StackName": "st", "UserName": "bob@example.com", "AuthenticationType": "USERPOOL"},
                    {"StackName": "nope", "UserName": "alice@example.com", "AuthenticationType": "USERPOOL"}
                ]}),
            )
            .await;
        let errors = batch["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{wire:?}: {batch}"));
        let codes: Vec<&str> = errors
            .iter()
            .map(|e| e["ErrorCode"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["USER_NAME_NOT_FOUND", "STACK_NOT_FOUND"]);
        assert_eq!(
            errors[0]["UserStackAssociation"]["UserName"],
            "bob@example.com"
        );
        let associations = s
            .ok(
                wire,
                "DescribeUserStackAssociations",
                json!({"StackName": "st"}),
            )
            .await;
        assert_eq!(
            associations["UserStackAssociations"],
            json!([{"StackName": "st", "UserName": "alice@example.com", "AuthenticationType": "USERPOOL"}])
        );

        // The streaming URL and the session it stands for.
        let url = s.ok(wire, "CreateStreamingURL", url_request.clone()).await;
        let link = url["StreamingURL"].as_str().unwrap();
        assert!(
            link.starts_with(&format!("{}/authenticate?parameters=", s.url)),
            "{link}"
        );
        let expires = cbor_epoch(wire, &url["Expires"]);
        let now = chrono::Utc::now().timestamp() as f64;
        assert!(
            (expires - now - 60.0).abs() < 5.0,
            "default validity is 60 s: {expires} vs {now}"
        );
        let long = s
            .ok(
                wire,
                "CreateStreamingURL",
                json!({"StackName": "st", "FleetName": "fl", "UserId": "bob", "Validity": 604800}),
            )
            .await;
        assert!((cbor_epoch(wire, &long["Expires"]) - now - 604_800.0).abs() < 5.0);
        for validity in [0, 604_801] {
            let msg = s
                .fails(wire, "CreateStreamingURL", json!({"StackName": "st", "FleetName": "fl", "UserId": "bob", "Validity": validity}), 400, "ValidationException")
                .await;
            assert!(msg.contains("at 'validity'"), "{msg}");
        }
        let sessions = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl", "UserId": "alice"}),
            )
            .await["Sessions"]
            .clone();
        let sessions = sessions.as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{wire:?}: {sessions:?}");
        assert_eq!(
            (
                sessions[0]["State"].as_str(),
                sessions[0]["AuthenticationType"].as_str()
            ),
            (Some("PENDING"), Some("API"))
        );
        let all = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl"}),
            )
            .await;
        assert_eq!(all["Sessions"].as_array().unwrap().len(), 2);
        s.ok(
            wire,
            "ExpireSession",
            json!({"SessionId": sessions[0]["Id"]}),
        )
        .await;
        s.ok(
            wire,
            "ExpireSession",
            json!({"SessionId": "no-such-session"}),
        )
        .await;
        let left = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl"}),
            )
            .await;
        assert_eq!(left["Sessions"][0]["UserId"], "bob");

        // Tearing down in the wrong order is refused.
        let msg = s
            .fails(
                wire,
                "DeleteStack",
                json!({"Name": "st"}),
                400,
                "ResourceInUseException",
            )
            .await;
        assert_eq!(msg, "Cannot delete stack st. This stack has fleets associated with it. Only stacks with no fleets associated with it can be deleted.");
        s.fails(
            wire,
            "DeleteFleet",
            json!({"Name": "fl"}),
            400,
            "ResourceInUseException",
        )
        .await;

        // And in the right order it works.
        s.ok(
            wire,
            "DisassociateFleet",
            json!({"StackName": "st", "FleetName": "fl"}),
        )
        .await;
        s.fails(
            wire,
            "DisassociateFleet",
            json!({"StackName": "st", "FleetName": "fl"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "DeleteFleet",
            json!({"Name": "fl"}),
            400,
            "ResourceInUseException",
        )
        .await; // still RUNNING
        s.ok(wire, "StopFleet", json!({"Name": "fl"})).await;
        assert_eq!(
            fleet_states(&s, wire, "fl", "STOPPED").await,
            ["STOPPING", "STOPPED"],
            "{wire:?}"
        );
        let stopped = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl"}),
            )
            .await;
        assert_eq!(
            stopped["Sessions"],
            json!([]),
            "stopping a fleet ends its sessions"
        );
        s.ok(wire, "DeleteFleet", json!({"Name": "fl"})).await;
        s.fails(
            wire,
            "DescribeFleets",
            json!({"Names": ["fl"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "ListTagsForResource",
            json!({"ResourceArn": fleet["Arn"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(wire, "BatchDisassociateUserStack", json!({"UserStackAssociations": [{"StackName": "st", "UserName": "alice@example.com", "AuthenticationType": "USERPOOL"}]})).await;
        s.ok(wire, "DeleteStack", json!({"Name": "st"})).await;
        s.ok(
            wire,
            "DeleteUser",
            json!({"UserName": "alice@example.com", "AuthenticationType": "USERPOOL"}),
        )
        .await;
    }
}

#[tokio::test]
async fn fleets_follow_their_documented_rules() {
    for wire in WIRES {
        let s = server().await;
        let base = json!({"Name": "f1", "ImageName": IMAGE, "InstanceType": "stream.standard.medium", "ComputeCapacity": {"DesiredInstances": 1}});
        let with = |extra: Value| {
            let mut body = base.clone();
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        let refused = [
            (
                with(json!({"ImageName": "No-Such-Image"})),
                404,
                "ResourceNotFoundException",
            ),
            (
                with(json!({"ImageArn": format!("arn:aws:appstream:us-east-1::image/{IMAGE}")})),
                400,
                "InvalidParameterCombinationException",
            ),
            (
                json!({"Name": "f1", "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}}),
                400,
                "InvalidParameterCombinationException",
            ),
            (
                json!({"Name": "f1", "ImageName": IMAGE, "InstanceType": "stream.standard.small", "FleetType": "ALWAYS_ON"}),
                400,
                "InvalidParameterCombinationException",
            ),
            (
                with(json!({"ComputeCapacity": {"DesiredInstances": 1, "DesiredSessions": 4}})),
                400,
                "InvalidParameterCombinationException",
            ),
            (
                with(json!({"MaxUserDurationInSeconds": 599})),
                400,
                "ValidationException",
            ),
            (
                with(json!({"DisconnectTimeoutInSeconds": 36001})),
                400,
                "ValidationException",
            ),
            (
                with(json!({"IdleDisconnectTimeoutInSeconds": 30})),
                400,
                "ValidationException",
            ),
            (
                json!({"Name": "f1", "InstanceType": "stream.standard.small", "FleetType": "ELASTIC", "Platform": "WINDOWS_SERVER_2019", "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}}),
                400,
                "InvalidParameterCombinationException",
            ),
            (
                json!({"Name": "f1", "InstanceType": "stream.standard.small", "FleetType": "ELASTIC", "Platform": "WINDOWS_SERVER_2019", "MaxConcurrentSessions": 5, "VpcConfig": {"SubnetIds": ["subnet-1"]}}),
                400,
                "InvalidParameterCombinationException",
            ),
        ];
        for (body, status, code) in refused {
            s.fails(wire, "CreateFleet", body.clone(), status, code)
                .await;
        }
        s.fails(
            wire,
            "DescribeFleets",
            json!({"Names": ["f1"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;

        let elastic = s
            .ok(wire, "CreateFleet", json!({"Name": "el", "InstanceType": "stream.standard.small", "FleetType": "ELASTIC", "Platform": "AMAZON_LINUX2", "MaxConcurrentSessions": 5, "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}}))
            .await;
        assert_eq!(elastic["Fleet"]["FleetType"], "ELASTIC");
        s.ok(wire, "CreateFleet", base.clone()).await;
        s.fails(
            wire,
            "CreateFleet",
            base.clone(),
            400,
            "ResourceAlreadyExistsException",
        )
        .await;

        // Stopped: anything but the name may change.
        let updated = s.ok(wire, "UpdateFleet", json!({"Name": "f1", "InstanceType": "stream.compute.large", "Description": "d", "ComputeCapacity": {"DesiredInstances": 3}})).await;
        assert_eq!(updated["Fleet"]["InstanceType"], "stream.compute.large");
        assert_eq!(updated["Fleet"]["ComputeCapacityStatus"]["Desired"], 3);
        s.fails(
            wire,
            "UpdateFleet",
            json!({"Name": "ghost", "Description": "d"}),
            404,
            "ResourceNotFoundException",
        )
        .await;

        // Starting: nothing may change. Running: only what the documentation lists.
        s.ok(wire, "StartFleet", json!({"Name": "f1"})).await;
        s.fails(
            wire,
            "UpdateFleet",
            json!({"Name": "f1", "DisplayName": "x"}),
            400,
            "ResourceInUseException",
        )
        .await;
        fleet_states(&s, wire, "f1", "RUNNING").await;
        let msg = s
            .fails(
                wire,
                "UpdateFleet",
                json!({"Name": "f1", "InstanceType": "stream.standard.small"}),
                400,
                "ResourceInUseException",
            )
            .await;
        assert!(msg.contains("InstanceType"), "{msg}");
        let resized = s.ok(wire, "UpdateFleet", json!({"Name": "f1", "DisplayName": "Shown", "ComputeCapacity": {"DesiredInstances": 5}})).await;
        assert_eq!(resized["Fleet"]["ComputeCapacityStatus"]["Running"], 5);
        assert_eq!(resized["Fleet"]["DisplayName"], "Shown");
        s.ok(wire, "StartFleet", json!({"Name": "f1"})).await; // already running: no change
        s.ok(wire, "StopFleet", json!({"Name": "f1"})).await;
        s.fails(
            wire,
            "StartFleet",
            json!({"Name": "f1"}),
            400,
            "ConcurrentModificationException",
        )
        .await;
        s.fails(
            wire,
            "DeleteFleet",
            json!({"Name": "f1"}),
            400,
            "ResourceInUseException",
        )
        .await;
        fleet_states(&s, wire, "f1", "STOPPED").await;
        s.ok(wire, "DeleteFleet", json!({"Name": "f1"})).await;

        // DescribeFleets pages like DescribeStacks.
        for i in 0..30 {
            s.ok(
                wire,
                "CreateFleet",
                with(json!({"Name": format!("p{i:02}")})),
            )
            .await;
        }
        let first = s.ok(wire, "DescribeFleets", json!({})).await;
        assert_eq!(first["Fleets"].as_array().unwrap().len(), 25);
        let second = s
            .ok(
                wire,
                "DescribeFleets",
                json!({"NextToken": first["NextToken"]}),
            )
            .await;
        assert_eq!(second["Fleets"].as_array().unwrap().len(), 6); // 30 + "el"
        assert!(second.get("NextToken").is_none());
    }
}

#[tokio::test]
async fn zero_delay_makes_transitions_instant() {
    let s = start_with(appstream_local::Config {
        transition_delay: Duration::ZERO,
        ..Default::default()
    })
    .await;
    s.ok(Wire::Json, "CreateFleet", json!({"Name": "now", "ImageName": IMAGE, "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}})).await;
    s.ok(Wire::Json, "StartFleet", json!({"Name": "now"})).await;
    let fleet = s
        .ok(Wire::Cbor, "DescribeFleets", json!({"Names": ["now"]}))
        .await;
    assert_eq!(fleet["Fleets"][0]["State"], "RUNNING");
}
