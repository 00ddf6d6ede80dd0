//! The smaller documented rules of fleets, images, image builders, users and sessions,
//! over both wire protocols.

use std::time::Duration;

use crate::common::{start_with, TestServer, Wire, WIRES};
use serde_json::{json, Value};

const IMAGE: &str = "AppStream-WinServer2019-10-08-2025";

fn config(delay_ms: u64, enforce_quotas: bool) -> appstream_local::Config {
    appstream_local::Config {
        transition_delay: Duration::from_millis(delay_ms),
        enforce_quotas,
        ..Default::default()
    }
}

fn fleet(name: &str, extra: Value) -> Value {
    let mut body = json!({"Name": name, "ImageName": IMAGE, "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// The config fleets in these tests join.
fn directory_config() -> Value {
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

async fn associated_running_fleet(s: &TestServer, wire: Wire) {
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

#[tokio::test]
async fn images_refuse_what_their_rules_forbid() {
    for wire in WIRES {
        let s = start_with(config(0, false)).await;
        let dry = s
            .ok(
                wire,
                "CreateUpdatedImage",
                json!({"existingImageName": IMAGE, "newImageName": "mine", "dryRun": true}),
            )
            .await;
        assert_eq!(
            (
                dry["canUpdateImage"].as_bool(),
                dry["image"]["Name"].as_str()
            ),
            (Some(true), Some(IMAGE))
        );
        s.fails(
            wire,
            "DescribeImages",
            json!({"Names": ["mine"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(
            wire,
            "CreateUpdatedImage",
            json!({"existingImageName": IMAGE, "newImageName": "mine"}),
        )
        .await;
        s.fails(
            wire,
            "CreateUpdatedImage",
            json!({"existingImageName": IMAGE, "newImageName": "mine"}),
            400,
            "ResourceAlreadyExistsException",
        )
        .await;
        s.fails(
            wire,
            "CreateUpdatedImage",
            json!({"existingImageName": IMAGE, "newImageName": IMAGE}),
            400,
            "ResourceAlreadyExistsException",
        )
        .await;
        s.fails(
            wire,
            "UpdateImagePermissions",
            json!({"Name": "mine", "SharedAccountId": "000000000000", "ImagePermissions": {"allowFleet": true}}),
            400,
            "ValidationException",
        )
        .await;
        // Public images belong to AWS: they cannot be tagged.
        let public_arn = format!("arn:aws:appstream:us-east-1::image/{IMAGE}");
        s.fails(
            wire,
            "TagResource",
            json!({"ResourceArn": public_arn, "Tags": {"a": "b"}}),
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}

#[tokio::test]
async fn image_builders_refuse_changes_mid_transition() {
    for wire in WIRES {
        let s = start_with(config(60_000, false)).await; // transitions never finish here
        s.ok(
            wire,
            "CreateImageBuilder",
            json!({"Name": "ib", "ImageName": IMAGE, "InstanceType": "stream.standard.large"}),
        )
        .await;
        s.fails(
            wire,
            "StopImageBuilder",
            json!({"Name": "ib"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        s.fails(
            wire,
            "DeleteImageBuilder",
            json!({"Name": "ib"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        let again = s.ok(wire, "StartImageBuilder", json!({"Name": "ib"})).await;
        assert_eq!(
            again["ImageBuilder"]["State"], "PENDING",
            "starting a pending builder changes nothing"
        );
    }
    for wire in WIRES {
        // Long enough that a slow machine cannot finish the deletion between the two calls.
        let s = start_with(config(1000, false)).await;
        s.ok(
            wire,
            "CreateImageBuilder",
            json!({"Name": "ib", "ImageName": IMAGE, "InstanceType": "stream.standard.large"}),
        )
        .await;
        let started = std::time::Instant::now();
        while s
            .ok(wire, "DescribeImageBuilders", json!({"Names": ["ib"]}))
            .await["ImageBuilders"][0]["State"]
            != "RUNNING"
        {
            assert!(started.elapsed() < Duration::from_secs(10), "never RUNNING");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let deleting = s
            .ok(wire, "DeleteImageBuilder", json!({"Name": "ib"}))
            .await;
        assert_eq!(deleting["ImageBuilder"]["State"], "DELETING");
        s.fails(
            wire,
            "StartImageBuilder",
            json!({"Name": "ib"}),
            400,
            "ResourceNotAvailableException",
        )
        .await;
    }
}

#[tokio::test]
async fn instance_types_are_those_documented_and_images_run_on_their_families() {
    const G4_IMAGE: &str = "AppStream-Graphics-G4dn-WinServer2022-10-08-2025";
    for wire in WIRES {
        let s = start_with(config(0, false)).await;
        for bogus in ["stream.bogus.medium", "m5.large", "stream.standard.4xlarge"] {
            let message = s
                .fails(
                    wire,
                    "CreateFleet",
                    fleet("f", json!({"InstanceType": bogus})),
                    400,
                    "InvalidParameterCombinationException",
                )
                .await;
            assert_eq!(
                message,
                format!("The instance type {bogus} is not supported for fleets.")
            );
            s.fails(
                wire,
                "CreateImageBuilder",
                json!({"Name": "b", "ImageName": IMAGE, "InstanceType": bogus}),
                400,
                "InvalidParameterCombinationException",
            )
            .await;
        }
        // Elastic fleets take only the general purpose types.
        let elastic = json!({"Name": "e", "FleetType": "ELASTIC", "InstanceType": "stream.compute.large",
            "Platform": "WINDOWS_SERVER_2019", "MaxConcurrentSessions": 2,
            "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}});
        let message = s
            .fails(
                wire,
                "CreateFleet",
                elastic.clone(),
                400,
                "InvalidParameterCombinationException",
            )
            .await;
        assert!(message.contains("Elastic fleets"), "{message}");
        let mut elastic_ok = elastic;
        elastic_ok["InstanceType"] = json!("stream.standard.large");
        s.ok(wire, "CreateFleet", elastic_ok).await;
        // Image builders do not offer the two largest general purpose types.
        s.fails(
            wire,
            "CreateImageBuilder",
            json!({"Name": "b", "ImageName": IMAGE, "InstanceType": "stream.standard.2xlarge"}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;

        // A graphics image runs only on its family, and a general image on none of them.
        let message = s
            .fails(
                wire,
                "CreateImageBuilder",
                json!({"Name": "b", "ImageName": G4_IMAGE, "InstanceType": "stream.standard.medium"}),
                400,
                "IncompatibleImageException",
            )
            .await;
        assert!(message.contains("GRAPHICS_G4"), "{message}");
        s.fails(
            wire,
            "CreateFleet",
            fleet("g", json!({"InstanceType": "stream.graphics.g4dn.xlarge"})),
            400,
            "IncompatibleImageException",
        )
        .await;
        s.ok(
            wire,
            "CreateImageBuilder",
            json!({"Name": "b", "ImageName": G4_IMAGE, "InstanceType": "stream.graphics.g4dn.xlarge"}),
        )
        .await;
        s.ok(
            wire,
            "CreateFleet",
            fleet(
                "g",
                json!({"ImageName": G4_IMAGE, "InstanceType": "stream.graphics.g4dn.2xlarge"}),
            ),
        )
        .await;
        let images = s
            .ok(wire, "DescribeImages", json!({"Names": [G4_IMAGE, IMAGE]}))
            .await;
        let families: Vec<Value> = images["Images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["SupportedInstanceFamilies"].clone())
            .collect();
        assert_eq!(
            families,
            [
                json!(["GRAPHICS_G4"]),
                json!(["GENERAL_PURPOSE", "COMPUTE_OPTIMIZED", "MEMORY_OPTIMIZED"])
            ]
        );

        // UpdateFleet checks the merged fleet: a new type against the image, a new image
        // against the type, and nothing is changed by a refusal.
        s.fails(
            wire,
            "UpdateFleet",
            json!({"Name": "g", "InstanceType": "stream.standard.large"}),
            400,
            "IncompatibleImageException",
        )
        .await;
        s.fails(
            wire,
            "UpdateFleet",
            json!({"Name": "g", "ImageName": IMAGE}),
            400,
            "IncompatibleImageException",
        )
        .await;
        s.fails(
            wire,
            "UpdateFleet",
            json!({"Name": "g", "InstanceType": "stream.graphics.g9.xlarge"}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let updated = s
            .ok(
                wire,
                "UpdateFleet",
                json!({"Name": "g", "ImageName": IMAGE, "InstanceType": "stream.memory.z1d.large"}),
            )
            .await;
        assert_eq!(updated["Fleet"]["InstanceType"], "stream.memory.z1d.large");
        // A private image keeps the families of the image it was made from.
        let made = s
            .ok(
                wire,
                "CreateUpdatedImage",
                json!({"existingImageName": G4_IMAGE, "newImageName": "mine"}),
            )
            .await;
        assert_eq!(
            made["image"]["SupportedInstanceFamilies"],
            json!(["GRAPHICS_G4"])
        );
    }
}

#[tokio::test]
async fn stopped_image_builders_update_and_multi_session_instances_drain() {
    for wire in WIRES {
        let s = start_with(config(0, false)).await;
        // UpdateImageBuilder: only when STOPPED; agent access merges by action.
        s.ok(
            wire,
            "CreateImageBuilder",
            json!({"Name": "b", "ImageName": IMAGE, "InstanceType": "stream.standard.large"}),
        )
        .await;
        s.fails(
            wire,
            "UpdateImageBuilder",
            json!({"Name": "b", "Description": "x"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        s.ok(wire, "StopImageBuilder", json!({"Name": "b"})).await;
        let agent = json!({"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}],
            "ScreenResolution": "W_1280xH_720", "ScreenImageFormat": "PNG"});
        let updated = s
            .ok(
                wire,
                "UpdateImageBuilder",
                json!({"Name": "b", "Description": "tools", "AgentAccessConfig": agent}),
            )
            .await["ImageBuilder"]
            .clone();
        assert_eq!(updated["Description"], "tools");
        assert_eq!(updated["AgentAccessConfig"]["ScreenImageFormat"], "PNG");
        s.fails(
            wire,
            "UpdateImageBuilder",
            json!({"Name": "b", "AgentAccessConfig": {"Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "DISABLED"}]}}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let cleared = s
            .ok(
                wire,
                "UpdateImageBuilder",
                json!({"Name": "b", "AttributesToDelete": ["AGENT_ACCESS_CONFIG"]}),
            )
            .await;
        assert!(cleared["ImageBuilder"].get("AgentAccessConfig").is_none());

        // DrainSessionInstance: multi-session fleets only, and the session must exist.
        s.fails(
            wire,
            "DrainSessionInstance",
            json!({"SessionId": "nope"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(wire, "CreateStack", json!({"Name": "st"})).await;
        for (name, extra) in [
            ("single", json!({})),
            (
                "multi",
                json!({"ComputeCapacity": {"DesiredSessions": 4}, "MaxSessionsPerInstance": 2}),
            ),
        ] {
            s.ok(wire, "CreateFleet", fleet(name, extra)).await;
            s.ok(
                wire,
                "AssociateFleet",
                json!({"StackName": "st", "FleetName": name}),
            )
            .await;
            s.ok(wire, "StartFleet", json!({"Name": name})).await;
        }
        let session_of =
            |fleet: &str| json!({"StackName": "st", "FleetName": fleet, "UserId": "alice"});
        for fleet_name in ["single", "multi"] {
            s.ok(wire, "CreateStreamingURL", session_of(fleet_name))
                .await;
        }
        let id = |sessions: &Value| sessions["Sessions"][0]["Id"].as_str().unwrap().to_string();
        let single = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "single"}),
            )
            .await;
        s.fails(
            wire,
            "DrainSessionInstance",
            json!({"SessionId": id(&single)}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        let multi = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "multi"}),
            )
            .await;
        s.ok(
            wire,
            "DrainSessionInstance",
            json!({"SessionId": id(&multi)}),
        )
        .await;
        let drained = s
            .ok(
                wire,
                "DescribeSessions",
                json!({"StackName": "st", "FleetName": "multi"}),
            )
            .await;
        assert_eq!(drained["Sessions"][0]["InstanceDrainStatus"], "DRAINING");

        // DescribeAppLicenseUsage: a month as yyyy-mm, and no usage recorded.
        let usage = s
            .ok(
                wire,
                "DescribeAppLicenseUsage",
                json!({"BillingPeriod": "2026-11"}),
            )
            .await;
        assert_eq!(usage["AppLicenseUsages"], json!([]));
        s.fails(
            wire,
            "DescribeAppLicenseUsage",
            json!({"BillingPeriod": "2026-13"}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
    }
}
