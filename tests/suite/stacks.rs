//! The stack lifecycle over both wire protocols, with raw requests.

use crate::common::{start, Wire, WIRES};
use serde_json::{json, Value};
fn created_time_is_a_timestamp(wire: Wire, stack: &Value) {
    let t = &stack["CreatedTime"];
    let seconds = match wire {
        Wire::Json => t.as_f64(),
        // CBOR timestamps must carry tag 1 (Go's SDK rejects untagged ones).
        Wire::Cbor => t["$epoch"].as_f64(),
    }
    .unwrap_or_else(|| panic!("{wire:?}: CreatedTime {t}"));
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        (now - seconds).abs() < 60.0,
        "{wire:?}: {seconds} is not now"
    );
}

#[tokio::test]
async fn create_returns_every_member_given_with_arn_and_created_time() {
    for wire in WIRES {
        let s = start().await;
        let input = json!({
            "Name": "full.stack-1",
            "Description": "A description",
            "DisplayName": "Full stack",
            "StorageConnectors": [
                {"ConnectorType": "HOMEFOLDERS"},
                {"ConnectorType": "ONE_DRIVE", "Domains": ["example.com"], "DomainsRequireAdminConsent": ["consent.example.com"]}
            ],
            "RedirectURL": "https://example.com/bye",
            "FeedbackURL": "https://example.com/feedback",
            "UserSettings": [
                {"Action": "CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "Permission": "ENABLED", "MaximumLength": 1000},
                {"Action": "FILE_UPLOAD", "Permission": "DISABLED"}
            ],
            "ApplicationSettings": {"Enabled": true, "SettingsGroup": "group-a"},
            "Tags": {"env": "test", "team": "платформа"},
            "AccessEndpoints": [{"EndpointType": "STREAMING", "VpceId": "vpce-0123456789abcdef0"}],
            "EmbedHostDomains": ["example.com", "apps.example.org"],
            "StreamingExperienceSettings": {"PreferredProtocol": "UDP"},
            "ContentRedirection": {"HostToClient": {"Enabled": true, "AllowedUrls": ["https://*.example.com"], "DeniedUrls": ["https://bad.example.com"]}},
            "WebAuthnRedirection": {"Enabled": true, "ProcessCompatibilityList": ["chrome.exe", "msedge.exe"]},
            "AgentAccessConfig": {
                "Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}, {"AgentAction": "COMPUTER_INPUT", "Permission": "DISABLED"}],
                "S3BucketArn": "arn:aws:s3:::agent-bucket",
                "ScreenshotsUploadEnabled": true,
                "ReplaySessionEnabled": true,
                "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
                "ScreenResolution": "W_1280xH_720",
                "ScreenImageFormat": "PNG",
                "UserControlMode": "VIEW_STOP"
            },
            "StorageConnectorAuthentication": "FORCE_REAUTHENTICATION"
        });
        let out = s.ok(wire, "CreateStack", input.clone()).await;
        let stack = &out["Stack"];
        assert_eq!(
            stack["Arn"],
            "arn:aws:appstream:us-east-1:000000000000:stack/full.stack-1"
        );
        created_time_is_a_timestamp(wire, stack);
        for member in [
            "Name",
            "Description",
            "DisplayName",
            "StorageConnectors",
            "RedirectURL",
            "FeedbackURL",
            "AccessEndpoints",
            "EmbedHostDomains",
            "StreamingExperienceSettings",
            "ContentRedirection",
            "WebAuthnRedirection",
            "AgentAccessConfig",
            "StorageConnectorAuthentication",
        ] {
            assert_eq!(stack[member], input[member], "{wire:?} {member}");
        }
        // What was given, in place among the defaults of the other actions.
        assert_eq!(
            stack["UserSettings"],
            json!([
                {"Action": "CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "Permission": "ENABLED", "MaximumLength": 1000},
                {"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "ENABLED", "MaximumLength": 20_971_520},
                {"Action": "FILE_UPLOAD", "Permission": "DISABLED"},
                {"Action": "FILE_DOWNLOAD", "Permission": "ENABLED"},
                {"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "ENABLED"},
                {"Action": "DOMAIN_PASSWORD_SIGNIN", "Permission": "ENABLED"},
                {"Action": "DOMAIN_SMART_CARD_SIGNIN", "Permission": "DISABLED"},
                {"Action": "AUTO_TIME_ZONE_REDIRECTION", "Permission": "DISABLED"}
            ])
        );
        let app = &stack["ApplicationSettings"];
        assert_eq!(
            (app["Enabled"].as_bool(), app["SettingsGroup"].as_str()),
            (Some(true), Some("group-a"))
        );
        let bucket = app["S3BucketName"].as_str().unwrap();
        let suffix = bucket
            .strip_prefix("appstream-app-settings-us-east-1-000000000000-")
            .unwrap_or_else(|| panic!("bucket {bucket}"));
        assert!(!suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_alphanumeric()));

        // Describe reads back exactly what create returned.
        let described = s
            .ok(wire, "DescribeStacks", json!({"Names": ["full.stack-1"]}))
            .await;
        assert_eq!(described["Stacks"], json!([stack.clone()]));
        let tags = s
            .ok(
                wire,
                "ListTagsForResource",
                json!({"ResourceArn": stack["Arn"]}),
            )
            .await;
        assert_eq!(tags["Tags"], input["Tags"]);
    }
}

#[tokio::test]
async fn create_without_settings_reads_back_aws_defaults() {
    for wire in WIRES {
        let s = start().await;
        let stack = s.ok(wire, "CreateStack", json!({"Name": "plain"})).await["Stack"].clone();
        assert_eq!(stack["ApplicationSettings"], json!({"Enabled": false}));
        let settings = stack["UserSettings"].as_array().unwrap();
        let enabled: Vec<&str> = settings
            .iter()
            .filter(|s| s["Permission"] == "ENABLED")
            .map(|s| s["Action"].as_str().unwrap())
            .collect();
        assert_eq!(
            enabled,
            [
                "CLIPBOARD_COPY_FROM_LOCAL_DEVICE",
                "CLIPBOARD_COPY_TO_LOCAL_DEVICE",
                "FILE_UPLOAD",
                "FILE_DOWNLOAD",
                "PRINTING_TO_LOCAL_DEVICE",
                "DOMAIN_PASSWORD_SIGNIN"
            ]
        );
        assert_eq!(settings[0]["MaximumLength"], 20_971_520);
        assert!(
            stack.get("Description").is_none(),
            "{wire:?}: absent members stay absent"
        );
    }
}

#[tokio::test]
async fn duplicate_names_are_refused_and_the_first_stack_is_kept() {
    for wire in WIRES {
        let s = start().await;
        s.ok(
            wire,
            "CreateStack",
            json!({"Name": "dup", "Description": "first"}),
        )
        .await;
        let msg = s
            .fails(
                wire,
                "CreateStack",
                json!({"Name": "dup", "Description": "second"}),
                400,
                "ResourceAlreadyExistsException",
            )
            .await;
        assert!(msg.contains("dup"), "{msg}");
        let stacks = s
            .ok(wire, "DescribeStacks", json!({"Names": ["dup"]}))
            .await;
        assert_eq!(stacks["Stacks"][0]["Description"], "first");
    }
}

#[tokio::test]
async fn describe_pages_through_every_stack_in_a_stable_order() {
    for wire in WIRES {
        let s = start().await;
        let mut names: Vec<String> = (0..57).map(|i| format!("stack-{i:03}")).collect();
        for name in names.iter().rev() {
            s.ok(wire, "CreateStack", json!({"Name": name})).await;
        }
        let mut seen = Vec::new();
        let mut pages = 0;
        let mut token: Option<String> = None;
        loop {
            let body = match &token {
                Some(t) => json!({"NextToken": t}),
                None => json!({}),
            };
            let page = s.ok(wire, "DescribeStacks", body).await;
            pages += 1;
            seen.extend(
                page["Stacks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["Name"].as_str().unwrap().to_string()),
            );
            match page["NextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        names.sort();
        assert_eq!(seen, names, "{wire:?}");
        assert!(
            pages > 1,
            "{wire:?}: 57 stacks should take more than one page"
        );

        let msg = s
            .fails(
                wire,
                "DescribeStacks",
                json!({"NextToken": "not-a-token"}),
                400,
                "ValidationException",
            )
            .await;
        assert!(msg.contains("NextToken"), "{msg}");
    }
}

#[tokio::test]
async fn describe_of_an_unknown_name_is_not_found() {
    for wire in WIRES {
        let s = start().await;
        s.ok(wire, "CreateStack", json!({"Name": "known"})).await;
        let msg = s
            .fails(
                wire,
                "DescribeStacks",
                json!({"Names": ["known", "unknown"]}),
                404,
                "ResourceNotFoundException",
            )
            .await;
        assert!(msg.contains("unknown"), "{msg}");
        // An empty body describes everything.
        let all = s.ok(wire, "DescribeStacks", json!({})).await;
        assert_eq!(all["Stacks"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn update_changes_what_is_given_and_keeps_the_rest() {
    for wire in WIRES {
        let s = start().await;
        let created = s
            .ok(
                wire,
                "CreateStack",
                json!({
                    "Name": "upd",
                    "Description": "old",
                    "DisplayName": "Keep me",
                    "RedirectURL": "https://example.com/r",
                    "FeedbackURL": "https://example.com/f",
                    "StorageConnectors": [{"ConnectorType": "HOMEFOLDERS"}, {"ConnectorType": "GOOGLE_DRIVE", "Domains": ["example.com"]}],
                    "ApplicationSettings": {"Enabled": true, "SettingsGroup": "g1"}
                }),
            )
            .await["Stack"]
            .clone();
        let updated = s
            .ok(
                wire,
                "UpdateStack",
                json!({
                    "Name": "upd",
                    "Description": "new",
                    "AttributesToDelete": ["REDIRECT_URL", "STORAGE_CONNECTOR_GOOGLE_DRIVE"],
                    "UserSettings": [{"Action": "FILE_DOWNLOAD", "Permission": "DISABLED"}],
                    "ApplicationSettings": {"Enabled": true, "SettingsGroup": "g2"}
                }),
            )
            .await["Stack"]
            .clone();
        assert_eq!(updated["Description"], "new");
        assert_eq!(updated["DisplayName"], "Keep me");
        assert_eq!(updated["FeedbackURL"], "https://example.com/f");
        assert!(updated.get("RedirectURL").is_none(), "{updated}");
        assert_eq!(
            updated["StorageConnectors"],
            json!([{"ConnectorType": "HOMEFOLDERS"}])
        );
        assert_eq!(updated["CreatedTime"], created["CreatedTime"]);
        assert_eq!(updated["Arn"], created["Arn"]);
        let download = updated["UserSettings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == "FILE_DOWNLOAD")
            .unwrap();
        assert_eq!(download["Permission"], "DISABLED");
        assert_eq!(
            updated["UserSettings"].as_array().unwrap().len(),
            8,
            "other actions keep their permission"
        );
        // The settings bucket outlives a change of settings group.
        assert_eq!(
            updated["ApplicationSettings"]["S3BucketName"],
            created["ApplicationSettings"]["S3BucketName"]
        );
        assert_eq!(updated["ApplicationSettings"]["SettingsGroup"], "g2");

        let described = s
            .ok(wire, "DescribeStacks", json!({"Names": ["upd"]}))
            .await;
        assert_eq!(described["Stacks"][0], updated);

        let cleared = s
            .ok(
                wire,
                "UpdateStack",
                json!({"Name": "upd", "DeleteStorageConnectors": true}),
            )
            .await;
        assert!(cleared["Stack"].get("StorageConnectors").is_none());
    }
}

#[tokio::test]
async fn update_refuses_unknown_stacks_and_contradictions_and_changes_nothing() {
    for wire in WIRES {
        let s = start().await;
        s.fails(
            wire,
            "UpdateStack",
            json!({"Name": "ghost", "Description": "x"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(
            wire,
            "CreateStack",
            json!({"Name": "u2", "RedirectURL": "https://example.com/a"}),
        )
        .await;
        let msg = s
            .fails(
                wire,
                "UpdateStack",
                json!({"Name": "u2", "Description": "changed", "RedirectURL": "https://example.com/b", "AttributesToDelete": ["REDIRECT_URL"]}),
                400,
                "InvalidParameterCombinationException",
            )
            .await;
        assert!(msg.contains("REDIRECT_URL"), "{msg}");
        let stack = &s.ok(wire, "DescribeStacks", json!({"Names": ["u2"]})).await["Stacks"][0];
        assert_eq!(stack["RedirectURL"], "https://example.com/a");
        assert!(
            stack.get("Description").is_none(),
            "a failed update changed the stack: {stack}"
        );
    }
}

#[tokio::test]
async fn delete_removes_the_stack_and_its_tags() {
    for wire in WIRES {
        let s = start().await;
        let arn = s
            .ok(
                wire,
                "CreateStack",
                json!({"Name": "gone", "Tags": {"k": "v"}}),
            )
            .await["Stack"]["Arn"]
            .clone();
        assert_eq!(
            s.ok(wire, "DeleteStack", json!({"Name": "gone"})).await,
            json!({})
        );
        s.fails(
            wire,
            "DescribeStacks",
            json!({"Names": ["gone"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "DeleteStack",
            json!({"Name": "gone"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "ListTagsForResource",
            json!({"ResourceArn": arn}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        // A new stack of the same name starts without the old tags.
        s.ok(wire, "CreateStack", json!({"Name": "gone"})).await;
        assert_eq!(
            s.ok(wire, "ListTagsForResource", json!({"ResourceArn": arn}))
                .await["Tags"],
            json!({})
        );
    }
}
