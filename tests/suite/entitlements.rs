//! Entitlements: keyed by stack and name, their own error codes, entitled applications,
//! and gone with their stack.

use serde_json::json;

use crate::common::{start, WIRES};

#[tokio::test]
async fn entitlements_belong_to_a_stack_and_list_their_applications() {
    for wire in WIRES {
        let s = start().await;
        let entitlement = json!({"Name": "staff", "StackName": "portal", "AppVisibility": "ASSOCIATED",
            "Attributes": [{"Name": "department", "Value": "design"}]});
        s.fails(
            wire,
            "CreateEntitlement",
            entitlement.clone(),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(wire, "CreateStack", json!({"Name": "portal"})).await;
        let created =
            s.ok(wire, "CreateEntitlement", entitlement.clone()).await["Entitlement"].clone();
        assert_eq!(created["StackName"], "portal");
        assert_eq!(created["AppVisibility"], "ASSOCIATED");
        assert!(created["LastModifiedTime"].is_number() || created["LastModifiedTime"].is_object());
        s.fails(
            wire,
            "CreateEntitlement",
            entitlement,
            400,
            "EntitlementAlreadyExistsException",
        )
        .await;
        // Another stack may use the same name.
        s.ok(wire, "CreateStack", json!({"Name": "lab"})).await;
        s.ok(
            wire,
            "CreateEntitlement",
            json!({"Name": "staff", "StackName": "lab", "AppVisibility": "ALL",
            "Attributes": [{"Name": "domain", "Value": "lab"}]}),
        )
        .await;
        let listed = s
            .ok(wire, "DescribeEntitlements", json!({"StackName": "portal"}))
            .await;
        assert_eq!(listed["Entitlements"].as_array().unwrap().len(), 1);
        s.fails(
            wire,
            "UpdateEntitlement",
            json!({"Name": "nobody", "StackName": "portal", "Description": "x"}),
            400,
            "EntitlementNotFoundException",
        )
        .await;
        let updated = s
            .ok(
                wire,
                "UpdateEntitlement",
                json!({"Name": "staff", "StackName": "portal", "AppVisibility": "ALL"}),
            )
            .await;
        assert_eq!(updated["Entitlement"]["AppVisibility"], "ALL");
        assert_eq!(updated["Entitlement"]["Attributes"][0]["Value"], "design");

        let pair = json!({"StackName": "portal", "EntitlementName": "staff", "ApplicationIdentifier": "paint"});
        s.ok(wire, "AssociateApplicationToEntitlement", pair.clone())
            .await;
        s.ok(wire, "AssociateApplicationToEntitlement", json!({"StackName": "portal", "EntitlementName": "staff", "ApplicationIdentifier": "excel"})).await;
        let apps = s
            .ok(
                wire,
                "ListEntitledApplications",
                json!({"StackName": "portal", "EntitlementName": "staff"}),
            )
            .await;
        assert_eq!(
            apps["EntitledApplications"],
            json!([{"ApplicationIdentifier": "excel"}, {"ApplicationIdentifier": "paint"}])
        );
        s.ok(wire, "DisassociateApplicationFromEntitlement", pair.clone())
            .await;
        s.fails(
            wire,
            "DisassociateApplicationFromEntitlement",
            pair,
            404,
            "ResourceNotFoundException",
        )
        .await;

        // A deleted entitlement is not found by name, as Terraform waits for.
        s.ok(
            wire,
            "DeleteEntitlement",
            json!({"Name": "staff", "StackName": "portal"}),
        )
        .await;
        s.fails(
            wire,
            "DescribeEntitlements",
            json!({"StackName": "portal", "Name": "staff"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "DeleteEntitlement",
            json!({"Name": "staff", "StackName": "portal"}),
            400,
            "EntitlementNotFoundException",
        )
        .await;
        // The stack's entitlements go with it; the other stack's stay.
        s.ok(wire, "DeleteStack", json!({"Name": "lab"})).await;
        s.ok(wire, "CreateStack", json!({"Name": "lab"})).await;
        let listed = s
            .ok(wire, "DescribeEntitlements", json!({"StackName": "lab"}))
            .await;
        assert_eq!(listed["Entitlements"], json!([]));
    }
}
