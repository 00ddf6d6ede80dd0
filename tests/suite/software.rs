//! License-included software: staged, deployed to a running image builder, installed or
//! removed after the transition delay, and described by the builder's ARN.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{start_with, TestServer, Wire, WIRES};

const OFFICE: &str = "Microsoft_Office_2024_LTSC_Professional_Plus_64Bit";
const VISIO: &str = "Microsoft_Visio_2024_LTSC_Professional_64Bit";

async fn statuses(s: &TestServer, wire: Wire, arn: &Value) -> Value {
    let described = s
        .ok(
            wire,
            "DescribeSoftwareAssociations",
            json!({"AssociatedResource": arn}),
        )
        .await;
    json!(described["SoftwareAssociations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| json!([a["SoftwareName"], a["Status"]]))
        .collect::<Vec<_>>())
}

#[tokio::test]
async fn software_is_staged_then_deployed_then_installed_or_removed() {
    for wire in WIRES {
        let s = start_with(appstream_local::Config {
            transition_delay: Duration::from_millis(150),
            ..Default::default()
        })
        .await;
        let builder = s.ok(wire, "CreateImageBuilder", json!({"Name": "b",
            "ImageName": "AppStream-WinServer2022-10-08-2025", "InstanceType": "stream.standard.large"}))
            .await["ImageBuilder"]["Arn"]
            .clone();
        s.fails(
            wire,
            "AssociateSoftwareToImageBuilder",
            json!({"ImageBuilderName": "b", "SoftwareNames": ["Notepad_Plus_Plus"]}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        let both = json!({"ImageBuilderName": "b", "SoftwareNames": [OFFICE, VISIO]});
        s.ok(wire, "AssociateSoftwareToImageBuilder", both.clone())
            .await;
        assert_eq!(
            statuses(&s, wire, &builder).await,
            json!([
                [OFFICE, "STAGED_FOR_INSTALLATION"],
                [VISIO, "STAGED_FOR_INSTALLATION"]
            ])
        );
        // Deployment needs a running builder.
        s.fails(
            wire,
            "StartSoftwareDeploymentToImageBuilder",
            json!({"ImageBuilderName": "b"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        s.ok(
            wire,
            "StartSoftwareDeploymentToImageBuilder",
            json!({"ImageBuilderName": "b"}),
        )
        .await;
        assert_eq!(
            statuses(&s, wire, &builder).await,
            json!([
                [OFFICE, "PENDING_INSTALLATION"],
                [VISIO, "PENDING_INSTALLATION"]
            ])
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            statuses(&s, wire, &builder).await,
            json!([[OFFICE, "INSTALLED"], [VISIO, "INSTALLED"]])
        );

        // Uninstalling goes the same way and ends the association.
        s.ok(
            wire,
            "DisassociateSoftwareFromImageBuilder",
            json!({"ImageBuilderName": "b", "SoftwareNames": [VISIO]}),
        )
        .await;
        assert_eq!(
            statuses(&s, wire, &builder).await,
            json!([[OFFICE, "INSTALLED"], [VISIO, "STAGED_FOR_UNINSTALLATION"]])
        );
        s.ok(
            wire,
            "StartSoftwareDeploymentToImageBuilder",
            json!({"ImageBuilderName": "b"}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            statuses(&s, wire, &builder).await,
            json!([[OFFICE, "INSTALLED"]])
        );
        s.fails(
            wire,
            "DisassociateSoftwareFromImageBuilder",
            json!({"ImageBuilderName": "b", "SoftwareNames": [VISIO]}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        s.fails(
            wire,
            "DescribeSoftwareAssociations",
            json!({"AssociatedResource": "arn:aws:appstream:us-east-1:000000000000:image-builder/none"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}
