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
