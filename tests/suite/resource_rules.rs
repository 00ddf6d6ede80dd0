//! The smaller documented rules of fleets, images, image builders, users and sessions,
//! over both wire protocols.

use std::time::Duration;

use crate::common::{start_with, TestServer, Wire, WIRES};
use serde_json::{json, Value};
pub(crate) const IMAGE: &str = "AppStream-WinServer2019-10-08-2025";

pub(crate) fn config(delay_ms: u64, enforce_quotas: bool) -> appstream_local::Config {
    appstream_local::Config {
        transition_delay: Duration::from_millis(delay_ms),
        enforce_quotas,
        ..Default::default()
    }
}

pub(crate) fn fleet(name: &str, extra: Value) -> Value {
    let mut body = json!({"Name": name, "ImageName": IMAGE, "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// The config fleets in these tests join.
pub(crate) fn directory_config() -> Value {
    json!({"DirectoryName": "corp.example.com", "OrganizationalUnitDistinguishedNames": ["OU=AppStream,DC=corp,DC=example,DC=com"]})
}

#[tokio::test]
async fn quotas_for_fleets_image_builders_and_users_apply_only_when_enabled() {
    for wire in WIRES {
        let strict = start_with(config(0, true)).await;
        let relaxed = start_with(config(0, false)).await;
        for s in [&strict, &relaxed] {
            for i in 0..10 {
                s.ok(wire, "CreateFleet", fleet(&format!("f{i}"), json!({})))
                    .await;
                s.ok(wire, "CreateImageBuilder", json!({"Name": format!("b{i}"), "ImageName": IMAGE, "InstanceType": "stream.standard.large"})).await;
            }
            for i in 0..50 {
                s.ok(wire, "CreateUser", json!({"UserName": format!("u{i}@example.com"), "AuthenticationType": "USERPOOL"})).await;
            }
        }
        strict
            .fails(
                wire,
                "CreateFleet",
                fleet("f10", json!({})),
                400,
                "LimitExceededException",
            )
            .await;
        strict
            .fails(
                wire,
                "CreateImageBuilder",
                json!({"Name": "b10", "ImageName": IMAGE, "InstanceType": "stream.standard.large"}),
                400,
                "LimitExceededException",
            )
            .await;
        strict
            .fails(
                wire,
                "CreateUser",
                json!({"UserName": "u50@example.com", "AuthenticationType": "USERPOOL"}),
                400,
                "LimitExceededException",
            )
            .await;
        relaxed
            .ok(wire, "CreateFleet", fleet("f10", json!({})))
            .await;
        relaxed
            .ok(
                wire,
                "CreateImageBuilder",
                json!({"Name": "b10", "ImageName": IMAGE, "InstanceType": "stream.standard.large"}),
            )
            .await;
        relaxed
            .ok(
                wire,
                "CreateUser",
                json!({"UserName": "u50@example.com", "AuthenticationType": "USERPOOL"}),
            )
            .await;
    }
}

#[tokio::test]
async fn fleet_attributes_can_be_deleted_and_multi_session_capacity_counts_instances() {
    for wire in WIRES {
        let s = start_with(config(0, false)).await;
        s.ok(wire, "CreateDirectoryConfig", directory_config())
            .await;
        let created = s
            .ok(
                wire,
                "CreateFleet",
                fleet(
                    "f",
                    json!({
                        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
                        "IamRoleArn": "arn:aws:iam::123456789012:role/streaming",
                        "UsbDeviceFilterStrings": ["Wacom,056a,0000,*,*,*,1,0"],
                        "DomainJoinInfo": {"DirectoryName": "corp.example.com"}
                    }),
                ),
            )
            .await;
        assert!(created["Fleet"]["IamRoleArn"].is_string());
        let updated = s
            .ok(wire, "UpdateFleet", json!({"Name": "f", "AttributesToDelete": ["VPC_CONFIGURATION_SECURITY_GROUP_IDS", "IAM_ROLE_ARN", "USB_DEVICE_FILTER_STRINGS", "DOMAIN_JOIN_INFO"]}))
            .await["Fleet"]
            .clone();
        assert_eq!(updated["VpcConfig"], json!({"SubnetIds": ["subnet-1"]}));
        for gone in ["IamRoleArn", "UsbDeviceFilterStrings", "DomainJoinInfo"] {
            assert!(
                updated.get(gone).is_none(),
                "{wire:?}: {gone} still in {updated}"
            );
        }
        let no_vpc = s
            .ok(
                wire,
                "UpdateFleet",
                json!({"Name": "f", "DeleteVpcConfig": true}),
            )
            .await;
        assert!(no_vpc["Fleet"].get("VpcConfig").is_none());

        // Multi-session: desired sessions over sessions per instance, rounded up.
        let multi = s
            .ok(wire, "CreateFleet", fleet("m", json!({"ComputeCapacity": {"DesiredSessions": 10}, "MaxSessionsPerInstance": 4})))
            .await;
        let status = &multi["Fleet"]["ComputeCapacityStatus"];
        assert_eq!(
            (
                status["Desired"].as_i64(),
                status["DesiredUserSessions"].as_i64()
            ),
            (Some(3), Some(10))
        );
        s.fails(
            wire,
            "CreateFleet",
            fleet("m2", json!({"ComputeCapacity": {"DesiredSessions": 10}})),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
    }
}

pub(crate) async fn associated_running_fleet(s: &TestServer, wire: Wire) {
    s.ok(wire, "CreateStack", json!({"Name": "st"})).await;
    s.ok(wire, "CreateFleet", fleet("fl", json!({}))).await;
    s.ok(
        wire,
        "AssociateFleet",
        json!({"StackName": "st", "FleetName": "fl"}),
    )
    .await;
    s.ok(wire, "StartFleet", json!({"Name": "fl"})).await;
}

#[tokio::test]
async fn sessions_end_with_their_association_and_pages_are_bounded() {
    for wire in WIRES {
        let s = start_with(config(0, false)).await;
        associated_running_fleet(&s, wire).await;
        for i in 0..3 {
            s.ok(
                wire,
                "CreateStreamingURL",
                json!({"StackName": "st", "FleetName": "fl", "UserId": format!("user{i}")}),
            )
            .await;
        }
        let first = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl", "Limit": 2}),
            )
            .await;
        assert_eq!(first["Sessions"].as_array().unwrap().len(), 2);
        let rest = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl", "NextToken": first["NextToken"]}),
            )
            .await;
        assert_eq!(rest["Sessions"].as_array().unwrap().len(), 1);
        for limit in [0, 51] {
            let msg = s
                .fails(
                    wire,
                    "DescribeSessions",
                    json!({"StackName": "st", "FleetName": "fl", "Limit": limit}),
                    400,
                    "ValidationException",
                )
                .await;
            assert!(msg.contains("at 'limit'"), "{msg}");
        }
        // SAML sessions are another population: none here.
        let saml = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl", "AuthenticationType": "SAML"}),
            )
            .await;
        assert_eq!(saml["Sessions"], json!([]));
        s.ok(
            wire,
            "DisassociateFleet",
            json!({"StackName": "st", "FleetName": "fl"}),
        )
        .await;
        let after = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "fl"}),
            )
            .await;
        assert_eq!(
            after["Sessions"],
            json!([]),
            "{wire:?}: disassociating ends the pair's sessions"
        );
    }
}

#[tokio::test]
async fn associations_page_and_user_pool_rules_hold() {
    for wire in WIRES {
        let s = start_with(config(0, false)).await;
        s.ok(wire, "CreateFleet", fleet("shared", json!({}))).await;
        for i in 0..30 {
            let stack = format!("s{i:02}");
            s.ok(wire, "CreateStack", json!({"Name": stack})).await;
            s.ok(
                wire,
                "AssociateFleet",
                json!({"StackName": stack, "FleetName": "shared"}),
            )
            .await;
        }
        s.ok(
            wire,
            "AssociateFleet",
            json!({"StackName": "s00", "FleetName": "shared"}),
        )
        .await; // again: no change
        let first = s
            .ok(wire, "ListAssociatedStacks", json!({"FleetName": "shared"}))
            .await;
        assert_eq!(first["Names"].as_array().unwrap().len(), 25);
        let rest = s
            .ok(
                wire,
                "ListAssociatedStacks",
                json!({"FleetName": "shared", "NextToken": first["NextToken"]}),
            )
            .await;
        assert_eq!(rest["Names"].as_array().unwrap().len(), 5);
        s.fails(
            wire,
            "ListAssociatedFleets",
            json!({"StackName": "s00", "NextToken": first["NextToken"]}),
            400,
            "ValidationException",
        )
        .await;
        assert_eq!(
            s.ok(
                wire,
                "ListAssociatedFleets",
                json!({"StackName": "nothing"})
            )
            .await["Names"],
            json!([])
        );

        s.fails(wire, "CreateUser", json!({"UserName": "ghost@example.com", "AuthenticationType": "USERPOOL", "MessageAction": "RESEND"}), 400, "InvalidParameterCombinationException").await;
        let saml = s
            .ok(
                wire,
                "DescribeUserStackAssociations",
                json!({"StackName": "s00", "AuthenticationType": "SAML"}),
            )
            .await;
        assert_eq!(saml["UserStackAssociations"], json!([]));

        // A stack whose fleet joins a domain takes no user-pool users.
        s.ok(
            wire,
            "CreateUser",
            json!({"UserName": "u@example.com", "AuthenticationType": "USERPOOL"}),
        )
        .await;
        s.ok(wire, "CreateStack", json!({"Name": "domain"})).await;
        s.ok(wire, "CreateDirectoryConfig", directory_config())
            .await;
        s.ok(
            wire,
            "CreateFleet",
            fleet(
                "joined",
                json!({"DomainJoinInfo": {"DirectoryName": "corp.example.com"}}),
            ),
        )
        .await;
        s.ok(
            wire,
            "AssociateFleet",
            json!({"StackName": "domain", "FleetName": "joined"}),
        )
        .await;
        s.fails(
            wire,
            "BatchAssociateUserStack",
            json!({"UserStackAssociations": [{"StackName": "domain", "UserName": "u@example.com", "AuthenticationType": "USERPOOL"}]}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        let none = s
            .ok(
                wire,
                "DescribeUserStackAssociations",
                json!({"StackName": "domain"}),
            )
            .await;
        assert_eq!(none["UserStackAssociations"], json!([]));
    }
}
