//! Directory configs: keyed by directory name, the password kept but never shown, joined
//! by fleets and image builders, and not deleted while one uses them.

use serde_json::json;

use crate::common::{start, WIRES};

const IMAGE: &str = "AppStream-WinServer2019-10-08-2025";

#[tokio::test]
async fn directory_configs_keep_the_password_to_themselves_and_guard_their_users() {
    for wire in WIRES {
        let s = start().await;
        let input = json!({
            "DirectoryName": "corp.example.com",
            "OrganizationalUnitDistinguishedNames": ["OU=AppStream,DC=corp,DC=example,DC=com"],
            "ServiceAccountCredentials": {"AccountName": "corp\\svc", "AccountPassword": "hunter2-secret"}
        });
        let created = s.ok(wire, "CreateDirectoryConfig", input.clone()).await;
        let config = &created["DirectoryConfig"];
        assert_eq!(config["DirectoryName"], "corp.example.com");
        assert_eq!(
            config["ServiceAccountCredentials"]["AccountName"],
            "corp\\svc"
        );
        assert!(config["ServiceAccountCredentials"]
            .get("AccountPassword")
            .is_none());
        assert!(config["CreatedTime"].is_number() || config["CreatedTime"].is_object());
        s.fails(
            wire,
            "CreateDirectoryConfig",
            input,
            400,
            "ResourceAlreadyExistsException",
        )
        .await;

        let listed = s.ok(wire, "DescribeDirectoryConfigs", json!({})).await;
        assert_eq!(listed["DirectoryConfigs"].as_array().unwrap().len(), 1);
        assert!(!listed.to_string().contains("hunter2"));
        let message = s
            .fails(
                wire,
                "DescribeDirectoryConfigs",
                json!({"DirectoryNames": ["other.example.com"]}),
                404,
                "ResourceNotFoundException",
            )
            .await;
        assert_eq!(
            message,
            "Directory config other.example.com does not exist."
        );

        let updated = s
            .ok(
                wire,
                "UpdateDirectoryConfig",
                json!({"DirectoryName": "corp.example.com", "OrganizationalUnitDistinguishedNames": ["OU=Other,DC=corp,DC=example,DC=com"]}),
            )
            .await;
        assert_eq!(
            updated["DirectoryConfig"]["OrganizationalUnitDistinguishedNames"],
            json!(["OU=Other,DC=corp,DC=example,DC=com"])
        );
        assert_eq!(
            updated["DirectoryConfig"]["ServiceAccountCredentials"]["AccountName"],
            "corp\\svc"
        );

        // Fleets and image builders may join only a directory that has a config.
        let fleet = |directory: &str| {
            json!({"Name": "joined", "ImageName": IMAGE, "InstanceType": "stream.standard.small",
                "ComputeCapacity": {"DesiredInstances": 1},
                "DomainJoinInfo": {"DirectoryName": directory}})
        };
        s.fails(
            wire,
            "CreateFleet",
            fleet("unknown.example.com"),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "CreateImageBuilder",
            json!({"Name": "b", "ImageName": IMAGE, "InstanceType": "stream.standard.large",
                "DomainJoinInfo": {"DirectoryName": "unknown.example.com"}}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(wire, "CreateFleet", fleet("corp.example.com")).await;
        let message = s
            .fails(
                wire,
                "DeleteDirectoryConfig",
                json!({"DirectoryName": "corp.example.com"}),
                400,
                "ResourceInUseException",
            )
            .await;
        assert!(message.contains("fleet joined"), "{message}");
        s.ok(wire, "DeleteFleet", json!({"Name": "joined"})).await;
        s.ok(
            wire,
            "DeleteDirectoryConfig",
            json!({"DirectoryName": "corp.example.com"}),
        )
        .await;
        let listed = s.ok(wire, "DescribeDirectoryConfigs", json!({})).await;
        assert_eq!(listed["DirectoryConfigs"], json!([]));
        s.fails(
            wire,
            "DeleteDirectoryConfig",
            json!({"DirectoryName": "corp.example.com"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}

#[tokio::test]
async fn directory_configs_page_in_name_order() {
    let s = start().await;
    let wire = WIRES[0];
    for i in (0..5).rev() {
        let input = json!({"DirectoryName": format!("d{i}.example.com"), "OrganizationalUnitDistinguishedNames": ["OU=A"]});
        s.ok(wire, "CreateDirectoryConfig", input).await;
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"MaxResults": 2});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = s.ok(wire, "DescribeDirectoryConfigs", input).await;
        for config in page["DirectoryConfigs"].as_array().unwrap() {
            names.push(config["DirectoryName"].as_str().unwrap().to_string());
        }
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..5).map(|i| format!("d{i}.example.com")).collect();
    assert_eq!(names, expected);
}
