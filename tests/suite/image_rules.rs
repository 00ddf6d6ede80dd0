//! The documented rules of images, image builders and instance types, and how
//! multi-session instances drain, over both wire protocols.

use std::time::Duration;

use crate::common::{start_with, WIRES};
use serde_json::{json, Value};

use crate::resource_rules::{config, fleet, IMAGE};

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
