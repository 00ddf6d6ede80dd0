//! Images in and out: imports from an AMI (IMPORTING, then AVAILABLE; DryRun is a 412)
//! and export tasks to AMIs (EXPORTING, then COMPLETED with an AMI id).

use std::time::Duration;

use serde_json::json;

use crate::common::{start_with, WIRES};

#[tokio::test]
async fn images_are_imported_and_exported_through_delayed_states() {
    for wire in WIRES {
        let s = start_with(appstream_local::Config {
            transition_delay: Duration::from_millis(150),
            ..Default::default()
        })
        .await;
        s.fails(
            wire,
            "CreateImportedImage",
            json!({"Name": "imported"}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let dry =
            json!({"Name": "imported", "SourceAmiId": "ami-0123456789abcdef0", "DryRun": true});
        s.fails(
            wire,
            "CreateImportedImage",
            dry,
            412,
            "DryRunOperationException",
        )
        .await;
        let nothing = s
            .ok(wire, "DescribeImages", json!({"Type": "PRIVATE"}))
            .await;
        assert_eq!(nothing["Images"], json!([]));
        let imported = s
            .ok(
                wire,
                "CreateImportedImage",
                json!({"Name": "imported", "SourceAmiId": "ami-0123456789abcdef0",
                "RuntimeValidationConfig": {"IntendedInstanceType": "stream.graphics.g5.xlarge"}}),
            )
            .await["Image"]
            .clone();
        assert_eq!(imported["State"], "IMPORTING");
        assert_eq!(
            imported["SupportedInstanceFamilies"],
            json!(["GRAPHICS_G5"])
        );
        s.fails(
            wire,
            "CreateImportedImage",
            json!({"Name": "imported", "WorkspaceImageId": "wsi-0123456789"}),
            400,
            "ResourceAlreadyExistsException",
        )
        .await;
        // Not exportable until it is AVAILABLE.
        let export = json!({"ImageName": "imported", "AmiName": "exported-1",
            "IamRoleArn": "arn:aws:iam::000000000000:role/export", "TagSpecifications": {"k": "v"}});
        s.fails(
            wire,
            "CreateExportImageTask",
            export.clone(),
            400,
            "ResourceNotAvailableException",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let described = s
            .ok(wire, "DescribeImages", json!({"Names": ["imported"]}))
            .await;
        assert_eq!(described["Images"][0]["State"], "AVAILABLE");

        let task =
            s.ok(wire, "CreateExportImageTask", export.clone()).await["ExportImageTask"].clone();
        assert_eq!(task["State"], "EXPORTING");
        assert!(task.get("AmiId").is_none());
        assert_eq!(task["ImageArn"], imported["Arn"]);
        s.fails(
            wire,
            "CreateExportImageTask",
            export,
            400,
            "OperationNotPermittedException",
        )
        .await;
        let public = json!({"ImageName": "AppStream-WinServer2022-10-08-2025", "AmiName": "aws-image",
            "IamRoleArn": "arn:aws:iam::000000000000:role/export"});
        s.fails(
            wire,
            "CreateExportImageTask",
            public,
            400,
            "OperationNotPermittedException",
        )
        .await;
        let id = task["TaskId"].clone();
        let listed = s
            .ok(
                wire,
                "ListExportImageTasks",
                json!({"Filters": [{"Name": "state", "Values": ["EXPORTING"]}]}),
            )
            .await;
        assert_eq!(listed["ExportImageTasks"].as_array().unwrap().len(), 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let done = s
            .ok(wire, "GetExportImageTask", json!({"TaskId": id}))
            .await["ExportImageTask"]
            .clone();
        assert_eq!(done["State"], "COMPLETED");
        assert!(
            done["AmiId"].as_str().unwrap().starts_with("ami-"),
            "{done}"
        );
        let exporting = s
            .ok(
                wire,
                "ListExportImageTasks",
                json!({"Filters": [{"Name": "state", "Values": ["EXPORTING"]}]}),
            )
            .await;
        assert_eq!(exporting["ExportImageTasks"], json!([]));
        s.fails(
            wire,
            "GetExportImageTask",
            json!({"TaskId": "00000000-0000-0000-0000-000000000000"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "ListExportImageTasks",
            json!({"Filters": [{"Name": "color", "Values": ["red"]}]}),
            400,
            "ValidationException",
        )
        .await;
    }
}

#[tokio::test]
async fn an_image_copied_to_another_region_is_copying_there_then_available() {
    for wire in WIRES {
        let s = start_with(appstream_local::Config {
            transition_delay: Duration::from_millis(150),
            ..Default::default()
        })
        .await;
        let dublin = Some(("AKIDEXAMPLE", "eu-west-1"));
        s.ok(
            wire,
            "CreateUpdatedImage",
            json!({"existingImageName": "AppStream-WinServer2022-10-08-2025",
        "newImageName": "golden", "newImageTags": {"team": "img"}}),
        )
        .await;
        let copy = json!({"SourceImageName": "golden", "DestinationImageName": "golden-eu",
        "DestinationRegion": "eu-west-1", "DestinationImageDescription": "for Dublin"});
        s.fails(
            wire,
            "CopyImage",
            copy.clone(),
            400,
            "ResourceNotAvailableException",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let copied = s.ok(wire, "CopyImage", copy.clone()).await;
        assert_eq!(copied["DestinationImageName"], "golden-eu");
        s.fails(
            wire,
            "CopyImage",
            copy,
            400,
            "ResourceAlreadyExistsException",
        )
        .await;

        // Dublin lists it, COPYING then AVAILABLE, with its own ARN and without the tags.
        let there = s
            .json_as("DescribeImages", json!({"Names": ["golden-eu"]}), dublin)
            .await;
        let image = &there.body["Images"][0];
        assert_eq!(image["State"], "COPYING");
        assert_eq!(
            image["Arn"],
            "arn:aws:appstream:eu-west-1:000000000000:image/golden-eu"
        );
        assert_eq!(image["Description"], "for Dublin");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let there = s
            .json_as("DescribeImages", json!({"Names": ["golden-eu"]}), dublin)
            .await;
        assert_eq!(there.body["Images"][0]["State"], "AVAILABLE");
        let tags = s
            .json_as(
                "ListTagsForResource",
                json!({"ResourceArn": "arn:aws:appstream:eu-west-1:000000000000:image/golden-eu"}),
                dublin,
            )
            .await;
        assert_eq!(tags.body["Tags"], json!({}));
        // The source Region has no copy; a copy within the Region is one too.
        s.fails(
            wire,
            "DescribeImages",
            json!({"Names": ["golden-eu"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(
            wire,
            "CopyImage",
            json!({"SourceImageName": "golden", "DestinationImageName": "golden-2",
        "DestinationRegion": "us-east-1"}),
        )
        .await;
        s.fails(
        wire,
        "CopyImage",
        json!({"SourceImageName": "AppStream-WinServer2022-10-08-2025", "DestinationImageName": "x",
            "DestinationRegion": "eu-west-1"}),
        404,
        "ResourceNotFoundException",
    )
    .await;
        s.fails(
        wire,
        "CopyImage",
        json!({"SourceImageName": "golden", "DestinationImageName": "x", "DestinationRegion": "moon-1"}),
        400,
        "ValidationException",
    )
    .await;
    }
}
