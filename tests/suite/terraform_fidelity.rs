//! What the Terraform AWS provider's acceptance tests expect of AWS, over both wire
//! protocols: every user setting on a stack, public images with what the image data
//! source reads, the images its tests name, and multi-session fleets resized while they run.

use serde_json::{json, Value};

use crate::common::{start_with, TestServer, WIRES};

async fn server() -> TestServer {
    start_with(appstream_local::Config {
        transition_delay: std::time::Duration::ZERO,
        ..Default::default()
    })
    .await
}

/// The stack's settings as (action, permission, maximum length), in the stack's order.
fn settings(stack: &Value) -> Vec<(String, String, Option<u64>)> {
    stack["UserSettings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Action"].as_str().unwrap().to_string(),
                s["Permission"].as_str().unwrap().to_string(),
                s["MaximumLength"].as_u64(),
            )
        })
        .collect()
}

fn permission_of(stack: &Value, action: &str) -> String {
    settings(stack)
        .into_iter()
        .find(|(a, _, _)| a == action)
        .unwrap_or_else(|| panic!("no {action} in {stack}"))
        .1
}

#[tokio::test]
async fn a_stack_carries_one_user_setting_per_action_also_after_partial_changes() {
    for wire in WIRES {
        let s = server().await;
        let plain = s.ok(wire, "CreateStack", json!({"Name": "plain"})).await;
        let expected: Vec<(String, String, Option<u64>)> = [
            (
                "CLIPBOARD_COPY_FROM_LOCAL_DEVICE",
                "ENABLED",
                Some(20_971_520),
            ),
            (
                "CLIPBOARD_COPY_TO_LOCAL_DEVICE",
                "ENABLED",
                Some(20_971_520),
            ),
            ("FILE_UPLOAD", "ENABLED", None),
            ("FILE_DOWNLOAD", "ENABLED", None),
            ("PRINTING_TO_LOCAL_DEVICE", "ENABLED", None),
            ("DOMAIN_PASSWORD_SIGNIN", "ENABLED", None),
            ("DOMAIN_SMART_CARD_SIGNIN", "DISABLED", None),
            ("AUTO_TIME_ZONE_REDIRECTION", "DISABLED", None),
        ]
        .into_iter()
        .map(|(a, p, l)| (a.to_string(), p.to_string(), l))
        .collect();
        assert_eq!(settings(&plain["Stack"]), expected, "{wire:?}");

        // Given some, the rest keep their defaults.
        let partial = s
            .ok(
                wire,
                "CreateStack",
                json!({"Name": "partial", "UserSettings": [
                    {"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "DISABLED"},
                    {"Action": "DOMAIN_SMART_CARD_SIGNIN", "Permission": "ENABLED"}
                ]}),
            )
            .await;
        let stack = &partial["Stack"];
        assert_eq!(settings(stack).len(), 8, "{wire:?} {stack}");
        assert_eq!(
            permission_of(stack, "CLIPBOARD_COPY_TO_LOCAL_DEVICE"),
            "DISABLED"
        );
        assert_eq!(permission_of(stack, "DOMAIN_SMART_CARD_SIGNIN"), "ENABLED");
        assert_eq!(permission_of(stack, "FILE_UPLOAD"), "ENABLED");

        // A partial update changes only what it names; a newer action is added.
        let updated = s
            .ok(
                wire,
                "UpdateStack",
                json!({"Name": "partial", "UserSettings": [
                    {"Action": "AUTO_TIME_ZONE_REDIRECTION", "Permission": "ENABLED"},
                    {"Action": "SMART_CARD_REDIRECTION", "Permission": "ENABLED"}
                ]}),
            )
            .await;
        let stack = &updated["Stack"];
        assert_eq!(settings(stack).len(), 9, "{wire:?} {stack}");
        assert_eq!(
            permission_of(stack, "AUTO_TIME_ZONE_REDIRECTION"),
            "ENABLED"
        );
        assert_eq!(
            permission_of(stack, "CLIPBOARD_COPY_TO_LOCAL_DEVICE"),
            "DISABLED"
        );
        let described = s
            .ok(wire, "DescribeStacks", json!({"Names": ["partial"]}))
            .await;
        assert_eq!(
            described["Stacks"][0]["UserSettings"],
            stack["UserSettings"]
        );
    }
}

#[tokio::test]
async fn public_images_carry_what_the_image_data_source_reads() {
    for wire in WIRES {
        let s = server().await;
        let named = [
            "Amazon-AppStream2-Sample-Image-03-11-2023",
            "AppStream-WinServer2022-06-17-2024",
        ];
        let images = s
            .ok(
                wire,
                "DescribeImages",
                json!({"Names": named, "Type": "PUBLIC"}),
            )
            .await;
        let images = images["Images"].as_array().unwrap();
        assert_eq!(images.len(), 2, "{wire:?}");
        for image in images {
            let name = image["Name"].as_str().unwrap();
            assert!(named.contains(&name), "{name}");
            for member in [
                "Arn",
                "DisplayName",
                "Description",
                "Platform",
                "CreatedTime",
                "PublicBaseImageReleasedDate",
                "AppstreamAgentVersion",
                "ImageBuilderSupported",
            ] {
                assert!(!image[member].is_null(), "{wire:?} {name} has no {member}");
            }
            assert!(image["Applications"].is_array(), "{name}: {image}");
        }
        let base = images
            .iter()
            .find(|i| i["Name"] == "AppStream-WinServer2022-06-17-2024")
            .unwrap();
        assert_eq!(base["Platform"], "WINDOWS_SERVER_2022");
        assert_eq!(base["AppstreamAgentVersion"], "06-17-2024");
        // A fleet can pin the earlier release by name.
        let fleet = s
            .ok(
                wire,
                "CreateFleet",
                json!({"Name": "pinned", "InstanceType": "stream.standard.medium",
                       "ImageName": "AppStream-WinServer2022-06-17-2024",
                       "ComputeCapacity": {"DesiredInstances": 1}}),
            )
            .await;
        assert_eq!(
            fleet["Fleet"]["ImageArn"],
            "arn:aws:appstream:us-east-1::image/AppStream-WinServer2022-06-17-2024"
        );
    }
}

#[tokio::test]
async fn a_running_multi_session_fleet_changes_its_sessions_and_a_single_session_one_does_not() {
    for wire in WIRES {
        let s = server().await;
        let create = |name: &str, multi: bool| {
            let mut input = json!({"Name": name, "InstanceType": "stream.standard.xlarge",
                                   "ImageName": "AppStream-WinServer2022-10-08-2025"});
            if multi {
                input["MaxSessionsPerInstance"] = json!(5);
                input["ComputeCapacity"] = json!({"DesiredSessions": 10});
            } else {
                input["ComputeCapacity"] = json!({"DesiredInstances": 1});
            }
            input
        };
        for (name, multi) in [("multi", true), ("single", false)] {
            s.ok(wire, "CreateFleet", create(name, multi)).await;
            s.ok(wire, "StartFleet", json!({"Name": name})).await;
            let fleet = s.ok(wire, "DescribeFleets", json!({"Names": [name]})).await;
            assert_eq!(fleet["Fleets"][0]["State"], "RUNNING", "{wire:?}");
        }
        let updated = s
            .ok(
                wire,
                "UpdateFleet",
                json!({"Name": "multi", "MaxSessionsPerInstance": 10,
                       "ComputeCapacity": {"DesiredSessions": 20}}),
            )
            .await;
        assert_eq!(updated["Fleet"]["MaxSessionsPerInstance"], 10, "{wire:?}");
        assert_eq!(
            updated["Fleet"]["ComputeCapacityStatus"]["DesiredUserSessions"],
            20
        );
        assert_eq!(updated["Fleet"]["State"], "RUNNING");
        // A single-session fleet does not become multi-session while it runs.
        s.fails(
            wire,
            "UpdateFleet",
            json!({"Name": "single", "MaxSessionsPerInstance": 5}),
            400,
            "ResourceInUseException",
        )
        .await;
    }
}

#[test]
fn a_public_images_file_adds_the_names_a_configuration_pins() {
    use crate::common::{spawn_binary, start_up_fails, temp_dir};
    let dir = temp_dir("public-images");
    let file = dir.join("images.json");
    std::fs::write(
        &file,
        r#"[{"name": "AppStream-WinServer2019-06-17-2024", "platform": "WINDOWS_SERVER_2019"},
            {"name": "Team-Graphics-Image", "platform": "WINDOWS_SERVER_2022",
             "released": "2025-02-03", "instance_families": ["GRAPHICS_G4"],
             "description": "ours"}]"#,
    )
    .unwrap();
    let (_server, addr, _) = spawn_binary(
        &["--port", "0", "--public-images", file.to_str().unwrap()],
        &[],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let s = TestServer::at(&addr);
        for wire in WIRES {
            let found = s
                .ok(
                    wire,
                    "DescribeImages",
                    json!({"Names": ["AppStream-WinServer2019-06-17-2024"]}),
                )
                .await;
            let image = &found["Images"][0];
            assert_eq!(image["Platform"], "WINDOWS_SERVER_2019", "{wire:?}");
            assert_eq!(image["Visibility"], "PUBLIC");
            assert_eq!(image["AppstreamAgentVersion"], "06-17-2024");
            assert_eq!(
                image["Arn"],
                "arn:aws:appstream:us-east-1::image/AppStream-WinServer2019-06-17-2024"
            );
            // Listed among AWS's, in name order.
            let all = s
                .ok(wire, "DescribeImages", json!({"Type": "PUBLIC"}))
                .await;
            let names: Vec<&str> = all["Images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["Name"].as_str().unwrap())
                .collect();
            assert!(names.contains(&"Team-Graphics-Image"), "{names:?}");
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(names, sorted);
            // A fleet pins it; an added graphics image runs only on its family.
            s.ok(
                wire,
                "CreateFleet",
                json!({"Name": format!("pinned-{wire:?}"), "InstanceType": "stream.standard.medium",
                       "ImageName": "AppStream-WinServer2019-06-17-2024",
                       "ComputeCapacity": {"DesiredInstances": 1}}),
            )
            .await;
            let refused = s
                .call(
                    wire,
                    "CreateFleet",
                    json!({"Name": "wrong-family", "InstanceType": "stream.standard.medium",
                           "ImageName": "Team-Graphics-Image",
                           "ComputeCapacity": {"DesiredInstances": 1}}),
                )
                .await;
            assert_eq!(refused.status, 400, "{:?}", refused.body);
        }
    });
    std::fs::write(
        &file,
        r#"[{"name": "AppStream-WinServer2022-10-08-2025", "platform": "WINDOWS_SERVER_2022"}]"#,
    )
    .unwrap();
    let log = start_up_fails(&["--port", "0", "--public-images", file.to_str().unwrap()]);
    assert!(
        log.contains("cannot load public images")
            && log.contains("entry 0")
            && log.contains("already has"),
        "{log}"
    );
}
