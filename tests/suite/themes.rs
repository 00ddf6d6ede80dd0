//! Stack themes: one per stack, URLs instead of S3 locations, partial updates, and gone
//! with their stack.

use serde_json::json;

use crate::common::{start, WIRES};

#[tokio::test]
async fn a_stack_has_one_theme_that_updates_in_part_and_goes_with_it() {
    for wire in WIRES {
        let s = start().await;
        let theme = json!({
            "StackName": "portal", "TitleText": "Design apps", "ThemeStyling": "BLUE",
            "OrganizationLogoS3Location": {"S3Bucket": "brand", "S3Key": "logo.png"},
            "FaviconS3Location": {"S3Bucket": "brand", "S3Key": "favicon.ico"},
            "FooterLinks": [{"DisplayName": "Help", "FooterLinkURL": "https://example.com/help"}]
        });
        s.fails(
            wire,
            "CreateThemeForStack",
            theme.clone(),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(wire, "CreateStack", json!({"Name": "portal"})).await;
        let described = s
            .ok(
                wire,
                "DescribeThemeForStack",
                json!({"StackName": "portal"}),
            )
            .await;
        assert!(described.get("Theme").is_none(), "{described}");

        let created = s.ok(wire, "CreateThemeForStack", theme.clone()).await["Theme"].clone();
        assert_eq!(created["StackName"], "portal");
        assert_eq!(created["State"], "ENABLED");
        assert_eq!(created["ThemeTitleText"], "Design apps");
        assert_eq!(
            created["ThemeOrganizationLogoURL"],
            "https://brand.s3.us-east-1.amazonaws.com/logo.png"
        );
        assert!(created.get("OrganizationLogoS3Location").is_none());
        s.fails(
            wire,
            "CreateThemeForStack",
            theme,
            400,
            "ResourceAlreadyExistsException",
        )
        .await;

        let updated = s
            .ok(
                wire,
                "UpdateThemeForStack",
                json!({"StackName": "portal", "ThemeStyling": "PINK", "State": "DISABLED", "AttributesToDelete": ["FOOTER_LINKS"]}),
            )
            .await["Theme"]
            .clone();
        assert_eq!(
            (
                &updated["ThemeStyling"],
                &updated["State"],
                &updated["ThemeTitleText"]
            ),
            (&json!("PINK"), &json!("DISABLED"), &json!("Design apps"))
        );
        assert!(updated.get("ThemeFooterLinks").is_none(), "{updated}");
        s.fails(
            wire,
            "UpdateThemeForStack",
            json!({"StackName": "portal", "FooterLinks": [], "AttributesToDelete": ["FOOTER_LINKS"]}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;

        // The theme goes with its stack, and a new stack of the name has none.
        s.ok(wire, "DeleteStack", json!({"Name": "portal"})).await;
        s.ok(wire, "CreateStack", json!({"Name": "portal"})).await;
        let described = s
            .ok(
                wire,
                "DescribeThemeForStack",
                json!({"StackName": "portal"}),
            )
            .await;
        assert!(described.get("Theme").is_none(), "{described}");
        s.fails(
            wire,
            "DeleteThemeForStack",
            json!({"StackName": "portal"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}
