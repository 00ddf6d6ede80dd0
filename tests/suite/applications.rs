//! App blocks, applications and their Elastic fleets: the rules of packaging, the
//! associations seen from both sides, and what cannot go while it is used.

use serde_json::{json, Value};

use crate::common::{start, WIRES};

fn custom_block(name: &str) -> Value {
    json!({
        "Name": name,
        "SourceS3Location": {"S3Bucket": "apps", "S3Key": "paint.zip"},
        "SetupScriptDetails": {
            "ScriptS3Location": {"S3Bucket": "apps", "S3Key": "setup.ps1"},
            "ExecutablePath": "powershell.exe", "TimeoutInSeconds": 60
        },
        "Tags": {"team": "design"}
    })
}

fn application(name: &str, block_arn: &str) -> Value {
    json!({
        "Name": name, "LaunchPath": "C:\\\\paint\\\\paint.exe",
        "IconS3Location": {"S3Bucket": "apps", "S3Key": "paint.png"},
        "Platforms": ["WINDOWS_SERVER_2019"], "InstanceFamilies": ["GENERAL_PURPOSE"],
        "AppBlockArn": block_arn, "LaunchParameters": "--safe"
    })
}

#[tokio::test]
async fn app_blocks_applications_and_elastic_fleets_fit_together() {
    for wire in WIRES {
        let s = start().await;
        // Packaging rules from the model's prose.
        let mut no_setup = custom_block("paint");
        no_setup
            .as_object_mut()
            .unwrap()
            .remove("SetupScriptDetails");
        s.fails(wire, "CreateAppBlock", no_setup, 400, "ValidationException")
            .await;
        let block = s.ok(wire, "CreateAppBlock", custom_block("paint")).await["AppBlock"].clone();
        let block_arn = block["Arn"].as_str().unwrap().to_string();
        assert_eq!(
            block_arn,
            "arn:aws:appstream:us-east-1:000000000000:app-block/paint"
        );
        assert_eq!(
            (&block["State"], &block["PackagingType"]),
            (&json!("ACTIVE"), &json!("CUSTOM"))
        );
        let packaged = s
            .ok(
                wire,
                "CreateAppBlock",
                json!({"Name": "office", "PackagingType": "APPSTREAM2", "SourceS3Location": {"S3Bucket": "apps"}}),
            )
            .await;
        assert_eq!(packaged["AppBlock"]["State"], "INACTIVE");
        let all = s.ok(wire, "DescribeAppBlocks", json!({})).await;
        assert_eq!(all["AppBlocks"].as_array().unwrap().len(), 2);
        let one = s
            .ok(wire, "DescribeAppBlocks", json!({"Arns": [block_arn]}))
            .await;
        assert_eq!(one["AppBlocks"][0]["Name"], "paint");
        s.fails(
            wire,
            "DescribeAppBlocks",
            json!({"Arns": ["arn:aws:appstream:us-east-1:000000000000:app-block/none"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        let tags = s
            .ok(
                wire,
                "ListTagsForResource",
                json!({"ResourceArn": block_arn}),
            )
            .await;
        assert_eq!(tags["Tags"], json!({"team": "design"}));

        // Applications need an existing app block and the documented platforms.
        s.fails(
            wire,
            "CreateApplication",
            application(
                "paint",
                "arn:aws:appstream:us-east-1:000000000000:app-block/none",
            ),
            404,
            "ResourceNotFoundException",
        )
        .await;
        let mut windows_2022 = application("paint", &block_arn);
        windows_2022["Platforms"] = json!(["WINDOWS_SERVER_2022"]);
        s.fails(
            wire,
            "CreateApplication",
            windows_2022,
            400,
            "ValidationException",
        )
        .await;
        let app = s
            .ok(wire, "CreateApplication", application("paint", &block_arn))
            .await["Application"]
            .clone();
        let app_arn = app["Arn"].as_str().unwrap().to_string();
        assert_eq!(app["Enabled"], true);
        assert_eq!(app["AppBlockArn"], block_arn.as_str());
        assert!(app["IconURL"].as_str().unwrap().ends_with("/paint.png"));
        s.ok(
            wire,
            "TagResource",
            json!({"ResourceArn": app_arn, "Tags": {"k": "v"}}),
        )
        .await;
        let updated = s
            .ok(
                wire,
                "UpdateApplication",
                json!({"Name": "paint", "DisplayName": "Paint", "AttributesToDelete": ["LAUNCH_PARAMETERS"]}),
            )
            .await["Application"]
            .clone();
        assert_eq!(updated["DisplayName"], "Paint");
        assert!(updated.get("LaunchParameters").is_none(), "{updated}");

        // Only Elastic fleets of a matching platform and family take applications.
        s.ok(
            wire,
            "CreateFleet",
            json!({"Name": "always", "ImageName": "AppStream-WinServer2019-10-08-2025",
            "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}}),
        )
        .await;
        s.ok(
            wire,
            "CreateFleet",
            json!({"Name": "elastic", "FleetType": "ELASTIC", "Platform": "WINDOWS_SERVER_2019",
            "InstanceType": "stream.standard.small", "MaxConcurrentSessions": 5,
            "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"]}}),
        )
        .await;
        s.fails(
            wire,
            "AssociateApplicationFleet",
            json!({"FleetName": "always", "ApplicationArn": app_arn}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        let associated = s
            .ok(
                wire,
                "AssociateApplicationFleet",
                json!({"FleetName": "elastic", "ApplicationArn": app_arn}),
            )
            .await;
        assert_eq!(
            associated["ApplicationFleetAssociation"],
            json!({"FleetName": "elastic", "ApplicationArn": app_arn})
        );
        s.fails(
            wire,
            "DescribeApplicationFleetAssociations",
            json!({}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        for by in [
            json!({"FleetName": "elastic"}),
            json!({"ApplicationArn": app_arn}),
        ] {
            let seen = s.ok(wire, "DescribeApplicationFleetAssociations", by).await;
            assert_eq!(
                seen["ApplicationFleetAssociations"],
                json!([{"FleetName": "elastic", "ApplicationArn": app_arn}])
            );
        }

        // What is used cannot go.
        s.fails(
            wire,
            "DeleteAppBlock",
            json!({"Name": "paint"}),
            400,
            "ResourceInUseException",
        )
        .await;
        s.fails(
            wire,
            "DeleteApplication",
            json!({"Name": "paint"}),
            400,
            "ResourceInUseException",
        )
        .await;
        let pair = json!({"FleetName": "elastic", "ApplicationArn": app_arn});
        s.ok(wire, "DisassociateApplicationFleet", pair.clone())
            .await;
        s.fails(
            wire,
            "DisassociateApplicationFleet",
            pair,
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        s.ok(wire, "DeleteApplication", json!({"Name": "paint"}))
            .await;
        s.ok(wire, "DeleteAppBlock", json!({"Name": "paint"})).await;
        s.fails(
            wire,
            "ListTagsForResource",
            json!({"ResourceArn": block_arn}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        let left = s.ok(wire, "DescribeAppBlocks", json!({})).await;
        assert_eq!(left["AppBlocks"].as_array().unwrap().len(), 1);
    }
}
