//! The image and user flows people script, over both wire protocols: the public
//! catalogue, private images and their permissions, image builders from boot to delete,
//! and user-pool users.

use std::time::{Duration, Instant};

use crate::common::{cbor_epoch, WIRES};
use serde_json::{json, Value};

use crate::flows::{poll_until, server, IMAGE};

#[tokio::test]
async fn images_catalogue_private_images_and_permissions() {
    for wire in WIRES {
        let s = server().await;
        let public = s
            .ok(wire, "DescribeImages", json!({"Type": "PUBLIC"}))
            .await["Images"]
            .clone();
        let public = public.as_array().unwrap();
        assert!(public.len() >= 5);
        for image in public {
            let name = image["Name"].as_str().unwrap();
            assert_eq!(
                image["Arn"],
                format!("arn:aws:appstream:us-east-1::image/{name}")
            );
            assert_eq!(
                (image["Visibility"].as_str(), image["State"].as_str()),
                (Some("PUBLIC"), Some("AVAILABLE"))
            );
        }
        let paged = s.ok(wire, "DescribeImages", json!({"MaxResults": 2})).await;
        assert_eq!(paged["Images"].as_array().unwrap().len(), 2);
        assert!(paged["NextToken"].is_string());
        s.fails(
            wire,
            "DescribeImages",
            json!({"Names": ["nope"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "DescribeImages",
            json!({"Names": [IMAGE], "Arns": ["arn:aws:appstream:us-east-1::image/x"]}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;

        let created = s.ok(wire, "CreateUpdatedImage", json!({"existingImageName": IMAGE, "newImageName": "mine", "newImageTags": {"k": "v"}})).await;
        assert_eq!(created["image"]["State"], "PENDING");
        assert_eq!(
            created["image"]["Arn"],
            "arn:aws:appstream:us-east-1:000000000000:image/mine"
        );
        let states = poll_until(
            &s,
            wire,
            "DescribeImages",
            json!({"Names": ["mine"]}),
            |o| o["Images"][0]["State"].clone(),
            "AVAILABLE",
        )
        .await;
        assert_eq!(states, ["PENDING", "AVAILABLE"]);
        let private = s
            .ok(wire, "DescribeImages", json!({"Type": "PRIVATE"}))
            .await;
        assert_eq!(private["Images"].as_array().unwrap().len(), 1);
        assert_eq!(
            s.ok(
                wire,
                "ListTagsForResource",
                json!({"ResourceArn": created["image"]["Arn"]})
            )
            .await["Tags"],
            json!({"k": "v"})
        );

        s.ok(wire, "UpdateImagePermissions", json!({"Name": "mine", "SharedAccountId": "111122223333", "ImagePermissions": {"allowFleet": true, "allowImageBuilder": false}})).await;
        s.ok(wire, "UpdateImagePermissions", json!({"Name": "mine", "SharedAccountId": "444455556666", "ImagePermissions": {"allowFleet": true}})).await;
        let perms = s
            .ok(
                wire,
                "DescribeImagePermissions",
                json!({"Name": "mine", "SharedAwsAccountIds": ["111122223333"]}),
            )
            .await;
        assert_eq!(
            perms["SharedImagePermissionsList"],
            json!([{"sharedAccountId": "111122223333", "imagePermissions": {"allowFleet": true, "allowImageBuilder": false}}])
        );
        s.ok(
            wire,
            "DeleteImagePermissions",
            json!({"Name": "mine", "SharedAccountId": "111122223333"}),
        )
        .await;
        s.fails(
            wire,
            "DeleteImagePermissions",
            json!({"Name": "mine", "SharedAccountId": "111122223333"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "UpdateImagePermissions",
            json!({"Name": IMAGE, "SharedAccountId": "111122223333", "ImagePermissions": {}}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        // DeleteImage lists an error for AWS's own images; the permission operations do not.
        s.fails(
            wire,
            "DeleteImage",
            json!({"Name": IMAGE}),
            400,
            "OperationNotPermittedException",
        )
        .await;

        // A fleet can use the private image by ARN; the image cannot go while it does.
        s.ok(wire, "CreateFleet", json!({"Name": "uses-mine", "ImageArn": created["image"]["Arn"], "InstanceType": "stream.standard.small", "ComputeCapacity": {"DesiredInstances": 1}})).await;
        s.fails(
            wire,
            "DeleteImage",
            json!({"Name": "mine"}),
            400,
            "ResourceInUseException",
        )
        .await;
        s.ok(wire, "DeleteFleet", json!({"Name": "uses-mine"}))
            .await;
        let deleted = s.ok(wire, "DeleteImage", json!({"Name": "mine"})).await;
        assert_eq!(deleted["Image"]["Name"], "mine");
        s.fails(
            wire,
            "DescribeImages",
            json!({"Names": ["mine"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "DeleteImage",
            json!({"Name": IMAGE}),
            400,
            "OperationNotPermittedException",
        )
        .await;
    }
}

#[tokio::test]
async fn image_builders_boot_stream_stop_and_delete() {
    for wire in WIRES {
        let s = server().await;
        let created = s
            .ok(wire, "CreateImageBuilder", json!({"Name": "ib", "ImageName": IMAGE, "InstanceType": "stream.standard.large", "Tags": {"a": "b"}}))
            .await["ImageBuilder"]
            .clone();
        assert_eq!(created["State"], "PENDING");
        assert_eq!(
            created["Arn"],
            "arn:aws:appstream:us-east-1:000000000000:image-builder/ib"
        );
        s.fails(
            wire,
            "CreateImageBuilderStreamingURL",
            json!({"Name": "ib"}),
            400,
            "OperationNotPermittedException",
        )
        .await;
        let builder_state = |o: &Value| o["ImageBuilders"][0]["State"].clone();
        assert_eq!(
            poll_until(
                &s,
                wire,
                "DescribeImageBuilders",
                json!({"Names": ["ib"]}),
                builder_state,
                "RUNNING"
            )
            .await,
            ["PENDING", "RUNNING"]
        );

        let url = s
            .ok(
                wire,
                "CreateImageBuilderStreamingURL",
                json!({"Name": "ib"}),
            )
            .await;
        let link = url["StreamingURL"].as_str().unwrap();
        assert!(
            link.starts_with(&format!("{}/authenticate?parameters=", s.url)),
            "{link}"
        );
        let now = chrono::Utc::now().timestamp() as f64;
        assert!(
            (cbor_epoch(wire, &url["Expires"]) - now - 3600.0).abs() < 5.0,
            "default validity is an hour"
        );

        s.ok(wire, "StopImageBuilder", json!({"Name": "ib"})).await;
        assert_eq!(
            poll_until(
                &s,
                wire,
                "DescribeImageBuilders",
                json!({"Names": ["ib"]}),
                builder_state,
                "STOPPED"
            )
            .await,
            ["STOPPING", "STOPPED"]
        );
        s.ok(wire, "StartImageBuilder", json!({"Name": "ib"})).await;
        poll_until(
            &s,
            wire,
            "DescribeImageBuilders",
            json!({"Names": ["ib"]}),
            builder_state,
            "RUNNING",
        )
        .await;

        let deleting = s
            .ok(wire, "DeleteImageBuilder", json!({"Name": "ib"}))
            .await;
        assert_eq!(deleting["ImageBuilder"]["State"], "DELETING");
        let started = Instant::now();
        loop {
            let r = s
                .call(wire, "DescribeImageBuilders", json!({"Names": ["ib"]}))
                .await;
            if r.status == 404 {
                assert_eq!(r.code(), "ResourceNotFoundException");
                break;
            }
            assert_eq!(r.body["ImageBuilders"][0]["State"], "DELETING");
            assert!(started.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        s.fails(
            wire,
            "ListTagsForResource",
            json!({"ResourceArn": created["Arn"]}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "StartImageBuilder",
            json!({"Name": "ib"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.fails(
            wire,
            "CreateImageBuilder",
            json!({"Name": "ib2", "ImageName": "missing", "InstanceType": "stream.standard.large"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
    }
}

#[tokio::test]
async fn user_pool_users() {
    for wire in WIRES {
        let s = server().await;
        for i in 0..30 {
            s.ok(wire, "CreateUser", json!({"UserName": format!("user{i:02}@example.com"), "AuthenticationType": "USERPOOL", "MessageAction": "SUPPRESS"})).await;
        }
        s.fails(
            wire,
            "CreateUser",
            json!({"UserName": "user00@example.com", "AuthenticationType": "USERPOOL"}),
            400,
            "ResourceAlreadyExistsException",
        )
        .await;
        s.fails(
            wire,
            "CreateUser",
            json!({"UserName": "x@example.com", "AuthenticationType": "SAML"}),
            400,
            "InvalidParameterValueException",
        )
        .await;
        s.fails(wire, "CreateUser", json!({"UserName": "user00@example.com", "AuthenticationType": "USERPOOL", "MessageAction": "RESEND", "FirstName": "A"}), 400, "InvalidParameterCombinationException").await;
        s.ok(wire, "CreateUser", json!({"UserName": "user00@example.com", "AuthenticationType": "USERPOOL", "MessageAction": "RESEND"})).await;

        let first = s
            .ok(
                wire,
                "DescribeUsers",
                json!({"AuthenticationType": "USERPOOL", "MaxResults": 20}),
            )
            .await;
        let users = first["Users"].as_array().unwrap();
        assert_eq!(users.len(), 20);
        assert_eq!(
            users[0]["Arn"],
            "arn:aws:appstream:us-east-1:000000000000:user/userpool/user00@example.com"
        );
        assert_eq!(
            (users[0]["Enabled"].as_bool(), users[0]["Status"].as_str()),
            (Some(true), Some("UNCONFIRMED"))
        );
        let rest = s
            .ok(
                wire,
                "DescribeUsers",
                json!({"AuthenticationType": "USERPOOL", "NextToken": first["NextToken"]}),
            )
            .await;
        assert_eq!(rest["Users"].as_array().unwrap().len(), 10);

        s.ok(
            wire,
            "DisableUser",
            json!({"UserName": "user01@example.com", "AuthenticationType": "USERPOOL"}),
        )
        .await;
        let users = s
            .ok(
                wire,
                "DescribeUsers",
                json!({"AuthenticationType": "USERPOOL", "MaxResults": 2}),
            )
            .await;
        assert_eq!(users["Users"][1]["Enabled"], false);
        s.ok(
            wire,
            "EnableUser",
            json!({"UserName": "user01@example.com", "AuthenticationType": "USERPOOL"}),
        )
        .await;
        s.fails(
            wire,
            "EnableUser",
            json!({"UserName": "ghost@example.com", "AuthenticationType": "USERPOOL"}),
            404,
            "ResourceNotFoundException",
        )
        .await;
        s.ok(
            wire,
            "DeleteUser",
            json!({"UserName": "user01@example.com", "AuthenticationType": "USERPOOL"}),
        )
        .await;
        s.fails(
            wire,
            "DeleteUser",
            json!({"UserName": "user01@example.com", "AuthenticationType": "USERPOOL"}),
            404,
            "ResourceNotFoundException",
        )
        .await;

        // Batches hold 1..=25 entries (the model's bounds).
        let entry = json!({"StackName": "s", "UserName": "user00@example.com", "AuthenticationType": "USERPOOL"});
        let msg = s
            .fails(
                wire,
                "BatchAssociateUserStack",
                json!({"UserStackAssociations": vec![entry.clone(); 26]}),
                400,
                "ValidationException",
            )
            .await;
        assert!(
            msg.contains("Member must have length less than or equal to 25"),
            "{msg}"
        );
        s.fails(
            wire,
            "DescribeUserStackAssociations",
            json!({}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
        s.fails(
            wire,
            "DescribeUserStackAssociations",
            json!({"UserName": "user00@example.com"}),
            400,
            "InvalidParameterCombinationException",
        )
        .await;
    }
}
