//! Images made in an image builder (the test control standing in for its Image
//! Assistant), the license-included applications they carry, the license usage their
//! sessions record, and images shared with another account.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{sdk_refusal, start_with, TestServer, Wire, WIRES};

const CREATE_IMAGE: &str = "/_image-builders/create-image";
const OFFICE: &str = "Microsoft_Office_2024_LTSC_Professional_Plus_64Bit";
const PROJECT: &str = "Microsoft_Project_2024_Professional_64Bit";
const OTHER: Option<(&str, &str)> = Some(("111111111111", "us-east-1"));

async fn server() -> TestServer {
    start_with(appstream_local::Config {
        transition_delay: Duration::from_millis(100),
        ..Default::default()
    })
    .await
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(150)).await;
}

/// A RUNNING builder named "b" with Office and Project installed.
async fn builder_with_software(s: &TestServer, wire: Wire) {
    s.ok(
        wire,
        "CreateImageBuilder",
        json!({"Name": "b", "ImageName": "AppStream-WinServer2022-10-08-2025",
            "InstanceType": "stream.standard.large"}),
    )
    .await;
    s.ok(
        wire,
        "AssociateSoftwareToImageBuilder",
        json!({"ImageBuilderName": "b", "SoftwareNames": [OFFICE, PROJECT]}),
    )
    .await;
    settle().await;
    s.ok(
        wire,
        "StartSoftwareDeploymentToImageBuilder",
        json!({"ImageBuilderName": "b"}),
    )
    .await;
    settle().await;
}

/// A timestamp as seconds, from JSON's number or CBOR's tagged one.
fn epoch(time: &Value) -> f64 {
    time.as_f64()
        .or_else(|| time["$epoch"].as_f64())
        .unwrap_or_else(|| panic!("not a timestamp: {time}"))
}

fn names(described: &Value) -> Vec<&str> {
    described["Images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["Name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_image_made_in_a_builder_carries_its_software_and_sessions_record_license_usage() {
    for wire in WIRES {
        let s = server().await;
        builder_with_software(&s, wire).await;

        // The control: refused for a bad name, an unknown or stopped builder, a taken name.
        let body =
            |builder: &str, image: &str| json!({"name": builder, "image_name": image}).to_string();
        let (status, refused) = s.control(CREATE_IMAGE, &body("b", "-bad")).await;
        assert_eq!(status, 400, "{refused}");
        assert!(
            refused["error"]
                .as_str()
                .unwrap()
                .contains("at 'image_name' failed to satisfy constraint"),
            "{refused}"
        );
        let (status, refused) = s.control(CREATE_IMAGE, &body("b", &"a".repeat(102))).await;
        assert_eq!(status, 400, "the model allows 101 characters: {refused}");
        let (status, refused) = s.control(CREATE_IMAGE, &body("nope", "office")).await;
        assert_eq!(status, 404, "{refused}");
        let (status, made) = s.control(CREATE_IMAGE, &body("b", "office")).await;
        assert_eq!(status, 200, "{made}");
        assert_eq!(
            made["ImageArn"],
            "arn:aws:appstream:us-east-1:000000000000:image/office"
        );
        let builder = s
            .ok(wire, "DescribeImageBuilders", json!({"Names": ["b"]}))
            .await;
        assert_eq!(builder["ImageBuilders"][0]["State"], "SNAPSHOTTING");
        let (status, refused) = s.control(CREATE_IMAGE, &body("b", "office-2")).await;
        assert_eq!(
            status, 400,
            "a snapshotting builder makes no image: {refused}"
        );
        let image = s
            .ok(wire, "DescribeImages", json!({"Names": ["office"]}))
            .await["Images"][0]
            .clone();
        assert_eq!(image["State"], "PENDING");
        assert_eq!(image["ImageBuilderName"], "b");
        assert_eq!(image["ManagedSoftwareIncluded"], true);
        settle().await;
        let builder = s
            .ok(wire, "DescribeImageBuilders", json!({"Names": ["b"]}))
            .await;
        assert_eq!(builder["ImageBuilders"][0]["State"], "STOPPED");
        let image = s
            .ok(wire, "DescribeImages", json!({"Names": ["office"]}))
            .await["Images"][0]
            .clone();
        assert_eq!(image["State"], "AVAILABLE");
        let software = s
            .ok(
                wire,
                "DescribeSoftwareAssociations",
                json!({"AssociatedResource": image["Arn"]}),
            )
            .await;
        assert_eq!(
            software["SoftwareAssociations"],
            json!([{"SoftwareName": OFFICE, "Status": "INSTALLED"},
                {"SoftwareName": PROJECT, "Status": "INSTALLED"}])
        );
        start_again_and_refuse_a_taken_name(&s, wire).await;

        // Sessions on a fleet of that image use its licenses, per user and month.
        s.ok(
            wire,
            "CreateFleet",
            json!({"Name": "f", "ImageName": "office", "InstanceType": "stream.standard.large",
                "ComputeCapacity": {"DesiredInstances": 1}}),
        )
        .await;
        s.ok(wire, "CreateStack", json!({"Name": "s"})).await;
        s.ok(
            wire,
            "AssociateFleet",
            json!({"FleetName": "f", "StackName": "s"}),
        )
        .await;
        s.ok(wire, "StartFleet", json!({"Name": "f"})).await;
        settle().await;
        let mut urls = Vec::new();
        for user in ["carol", "alice", "carol"] {
            let url = s
                .ok(
                    wire,
                    "CreateStreamingURL",
                    json!({"StackName": "s", "FleetName": "f", "UserId": user}),
                )
                .await["StreamingURL"]
                .clone();
            urls.push(url.as_str().unwrap().to_string());
        }
        // The session page offers the installed applications.
        let page = s.http().get(&urls[0]).send().await.unwrap();
        let page = page.text().await.unwrap();
        assert!(
            page.contains(&format!("data-app=\"{OFFICE}\""))
                && page.contains(&OFFICE.replace('_', " ")),
            "{page}"
        );
        let period = chrono::Utc::now().format("%Y-%m").to_string();
        let usage = s
            .ok(
                wire,
                "DescribeAppLicenseUsage",
                json!({"BillingPeriod": period}),
            )
            .await;
        let records = usage["AppLicenseUsages"].as_array().unwrap();
        let summary: Vec<(&str, &str)> = records
            .iter()
            .map(|r| {
                (
                    r["UserId"].as_str().unwrap(),
                    r["LicenseType"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("alice", "Microsoft Office"),
                ("alice", "Microsoft Project"),
                ("carol", "Microsoft Office"),
                ("carol", "Microsoft Project"),
            ]
        );
        let carol = &records[2];
        assert_eq!(carol["BillingPeriod"], period.as_str());
        assert_eq!(carol["OwnerAWSAccountId"], "000000000000");
        assert_eq!(
            carol["UserArn"],
            "arn:aws:appstream:us-east-1:000000000000:user/api/carol"
        );
        let (first_used, last_used) = (
            epoch(&carol["SubscriptionFirstUsedDate"]),
            epoch(&carol["SubscriptionLastUsedDate"]),
        );
        assert!(last_used >= first_used, "{carol}");
        let first = s
            .ok(
                wire,
                "DescribeAppLicenseUsage",
                json!({"BillingPeriod": period, "MaxResults": 3}),
            )
            .await;
        assert_eq!(first["AppLicenseUsages"].as_array().unwrap().len(), 3);
        let rest = s
            .ok(
                wire,
                "DescribeAppLicenseUsage",
                json!({"BillingPeriod": period, "NextToken": first["NextToken"]}),
            )
            .await;
        assert_eq!(rest["AppLicenseUsages"][0]["UserId"], "carol");
        assert_eq!(
            rest["AppLicenseUsages"][0]["LicenseType"],
            "Microsoft Project"
        );
        let other_month = s
            .ok(
                wire,
                "DescribeAppLicenseUsage",
                json!({"BillingPeriod": "2020-01"}),
            )
            .await;
        assert_eq!(other_month["AppLicenseUsages"], json!([]));
    }
}

/// A stopped builder makes no image; started again, it refuses a name already taken.
async fn start_again_and_refuse_a_taken_name(s: &TestServer, wire: Wire) {
    s.ok(wire, "StartImageBuilder", json!({"Name": "b"})).await;
    settle().await;
    let body = json!({"name": "b", "image_name": "office"}).to_string();
    let (status, refused) = s.control(CREATE_IMAGE, &body).await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{refused}"
    );
}

#[tokio::test]
async fn an_image_shared_with_another_account_is_listed_there_as_shared() {
    for wire in WIRES {
        let s = server().await;
        let sdk_other = s.sdk_as("111111111111", "us-east-1");
        s.ok(
            wire,
            "CreateUpdatedImage",
            json!({"existingImageName": "AppStream-WinServer2022-10-08-2025",
                "newImageName": "golden"}),
        )
        .await;
        // The other account has an image of the same name: both are listed, by owner.
        s.json_as(
            "CreateUpdatedImage",
            json!({"existingImageName": "AppStream-AmazonLinux2-09-19-2025",
                "newImageName": "golden"}),
            OTHER,
        )
        .await;
        settle().await;
        s.ok(
            wire,
            "UpdateImagePermissions",
            json!({"Name": "golden", "SharedAccountId": "111111111111",
                "ImagePermissions": {"allowFleet": true, "allowImageBuilder": false}}),
        )
        .await;

        let shared = s
            .json_as("DescribeImages", json!({"Type": "SHARED"}), OTHER)
            .await
            .body;
        let image = &shared["Images"][0];
        assert_eq!(names(&shared), ["golden"]);
        assert_eq!(image["Visibility"], "SHARED");
        assert_eq!(
            image["Arn"],
            "arn:aws:appstream:us-east-1:000000000000:image/golden"
        );
        assert_eq!(
            image["ImagePermissions"],
            json!({"allowFleet": true, "allowImageBuilder": false})
        );
        // Over CBOR with the Rust SDK: the same, by type and by ARN.
        let by_sdk = sdk_other
            .describe_images()
            .r#type(aws_sdk_appstream::types::VisibilityType::Shared)
            .send()
            .await
            .unwrap();
        let sdk_image = &by_sdk.images()[0];
        assert_eq!(sdk_image.arn(), image["Arn"].as_str());
        assert_eq!(
            sdk_image.image_permissions().unwrap().allow_fleet(),
            Some(true)
        );
        let by_arn = sdk_other
            .describe_images()
            .arns(image["Arn"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            by_arn.images()[0].platform().unwrap().as_str(),
            "WINDOWS_SERVER_2022"
        );

        // Unfiltered, the other account sees its own "golden" and the shared one, paged
        // by name, then owner.
        let everything = s.json_as("DescribeImages", json!({}), OTHER).await.body;
        let goldens: Vec<(&str, &str)> = everything["Images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["Name"] == "golden")
            .map(|i| {
                (
                    i["Visibility"].as_str().unwrap(),
                    i["Arn"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            goldens,
            [
                (
                    "SHARED",
                    "arn:aws:appstream:us-east-1:000000000000:image/golden"
                ),
                (
                    "PRIVATE",
                    "arn:aws:appstream:us-east-1:111111111111:image/golden"
                ),
            ]
        );
        let mut seen = Vec::new();
        let mut token = Value::Null;
        loop {
            let mut body = json!({"MaxResults": 5});
            if !token.is_null() {
                body["NextToken"] = token.clone();
            }
            let page = s.json_as("DescribeImages", body, OTHER).await.body;
            seen.extend(
                page["Images"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["Arn"].as_str().unwrap().to_string()),
            );
            token = page["NextToken"].clone();
            if token.is_null() {
                break;
            }
        }
        let all: Vec<String> = everything["Images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["Arn"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(seen, all, "pages of 5 list what one page lists");

        // By name, the account's own image comes first; without one, the shared one.
        let by_name = s
            .json_as("DescribeImages", json!({"Names": ["golden"]}), OTHER)
            .await
            .body;
        assert_eq!(by_name["Images"][0]["Visibility"], "PRIVATE");
        s.json_as("DeleteImage", json!({"Name": "golden"}), OTHER)
            .await;
        let by_name = s
            .json_as("DescribeImages", json!({"Names": ["golden"]}), OTHER)
            .await
            .body;
        assert_eq!(by_name["Images"][0]["Visibility"], "SHARED");
        assert_eq!(by_name["Images"].as_array().unwrap().len(), 1);
        // Nobody else sees it: a third account, or the account in another Region.
        for who in [("222222222222", "us-east-1"), ("111111111111", "eu-west-1")] {
            let none = s
                .json_as("DescribeImages", json!({"Type": "SHARED"}), Some(who))
                .await
                .body;
            assert_eq!(none["Images"], json!([]), "{who:?}");
        }
        // The owner still sees it as its private image.
        let own = s
            .ok(wire, "DescribeImages", json!({"Names": ["golden"]}))
            .await;
        assert_eq!(own["Images"][0]["Visibility"], "PRIVATE");

        // Unshared, then deleted: gone for the other account.
        s.ok(
            wire,
            "DeleteImagePermissions",
            json!({"Name": "golden", "SharedAccountId": "111111111111"}),
        )
        .await;
        let after = s
            .json_as("DescribeImages", json!({"Type": "SHARED"}), OTHER)
            .await
            .body;
        assert_eq!(after["Images"], json!([]));
        s.ok(
            wire,
            "UpdateImagePermissions",
            json!({"Name": "golden", "SharedAccountId": "111111111111",
                "ImagePermissions": {"allowFleet": true}}),
        )
        .await;
        s.ok(wire, "DeleteImage", json!({"Name": "golden"})).await;
        let reply = s
            .json_as(
                "DescribeImages",
                json!({"Arns": ["arn:aws:appstream:us-east-1:000000000000:image/golden"]}),
                OTHER,
            )
            .await;
        assert_eq!(reply.code(), "ResourceNotFoundException");
    }
}

#[tokio::test]
async fn the_other_account_makes_fleets_from_a_shared_image_as_its_permissions_allow() {
    let s = server().await;
    let owner_arn = "arn:aws:appstream:us-east-1:000000000000:image/golden";
    s.json(
        "CreateUpdatedImage",
        json!({"existingImageName": "AppStream-WinServer2022-10-08-2025", "newImageName": "golden"}),
    )
    .await;
    settle().await;
    let fleet = |name: &str, image: Value| {
        let mut body = json!({"Name": name, "InstanceType": "stream.standard.medium",
            "ComputeCapacity": {"DesiredInstances": 1}});
        body.as_object_mut()
            .unwrap()
            .extend(image.as_object().unwrap().clone());
        body
    };
    // Not shared yet: for the other account it does not exist.
    let reply = s
        .json_as(
            "CreateFleet",
            fleet("f0", json!({"ImageArn": owner_arn})),
            OTHER,
        )
        .await;
    assert_eq!(reply.code(), "ResourceNotFoundException");
    s.json(
        "UpdateImagePermissions",
        json!({"Name": "golden", "SharedAccountId": "111111111111",
            "ImagePermissions": {"allowFleet": true, "allowImageBuilder": false}}),
    )
    .await;
    let created = s
        .json_as(
            "CreateFleet",
            fleet("f1", json!({"ImageArn": owner_arn})),
            OTHER,
        )
        .await;
    assert_eq!(created.status, 200, "{created:?}");
    assert_eq!(created.body["Fleet"]["ImageArn"], owner_arn);
    assert_eq!(created.body["Fleet"]["Platform"], "WINDOWS_SERVER_2022");
    // Over CBOR with the Rust SDK: the share does not allow image builders.
    let sdk_other = s.sdk_as("111111111111", "us-east-1");
    let refused = sdk_other
        .create_image_builder()
        .name("b")
        .instance_type("stream.standard.medium")
        .image_arn(owner_arn)
        .send()
        .await;
    assert_eq!(
        sdk_refusal(refused),
        ("OperationNotPermittedException".to_string(), 400),
        "allowImageBuilder is false"
    );
    // Names are each account's own: the shared image is named by its ARN.
    let by_name = s
        .json_as(
            "CreateFleet",
            fleet("f2", json!({"ImageName": "golden"})),
            OTHER,
        )
        .await;
    assert_eq!(by_name.code(), "ResourceNotFoundException");
    // The owner's DeleteImage does not wait for other accounts' fleets; unshared, the
    // image cannot make new ones.
    s.json(
        "DeleteImagePermissions",
        json!({"Name": "golden", "SharedAccountId": "111111111111"}),
    )
    .await;
    let after = s
        .json_as(
            "CreateFleet",
            fleet("f3", json!({"ImageArn": owner_arn})),
            OTHER,
        )
        .await;
    assert_eq!(after.code(), "ResourceNotFoundException");
    let deleted = s.json("DeleteImage", json!({"Name": "golden"})).await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
}
