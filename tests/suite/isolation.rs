//! State per (account, region), and atomicity under concurrent clients.

use std::sync::Arc;

use crate::common::start;
use serde_json::json;

#[tokio::test]
async fn accounts_and_regions_do_not_see_each_others_stacks() {
    let s = start().await;
    let tenants = [
        ("111111111111", "us-east-1"),
        ("111111111111", "eu-west-1"),
        ("222222222222", "us-east-1"),
        ("AKIDEXAMPLE", "us-east-1"),
    ];
    for (key, region) in tenants {
        let r = s
            .json_as(
                "CreateStack",
                json!({"Name": "same-name", "Description": format!("{key}/{region}")}),
                Some((key, region)),
            )
            .await;
        assert_eq!(r.status, 200, "{key}/{region}: {r:?}");
        let account = if key.len() == 12 { key } else { "000000000000" };
        assert_eq!(
            r.body["Stack"]["Arn"],
            format!("arn:aws:appstream:{region}:{account}:stack/same-name")
        );
    }
    for (key, region) in tenants {
        let r = s
            .json_as("DescribeStacks", json!({}), Some((key, region)))
            .await;
        let stacks = r.body["Stacks"].as_array().unwrap();
        assert_eq!(stacks.len(), 1, "{key}/{region}");
        assert_eq!(stacks[0]["Description"], format!("{key}/{region}"));
    }
    // Unsigned requests are the default account in us-east-1: the AKIDEXAMPLE tenant.
    let unsigned = s.json("DescribeStacks", json!({})).await;
    assert_eq!(
        unsigned.body["Stacks"][0]["Description"],
        "AKIDEXAMPLE/us-east-1"
    );

    // The Rust SDK signs with its region; its requests land in that region's state.
    let sdk = s.sdk_as("111111111111", "eu-west-1");
    let out = sdk.describe_stacks().send().await.unwrap();
    assert_eq!(
        out.stacks()[0].description(),
        Some("111111111111/eu-west-1")
    );
    sdk.delete_stack().name("same-name").send().await.unwrap();
    let other = s
        .json_as(
            "DescribeStacks",
            json!({"Names": ["same-name"]}),
            Some(("111111111111", "us-east-1")),
        )
        .await;
    assert_eq!(
        other.status, 200,
        "deleting in eu-west-1 must not touch us-east-1"
    );
}

#[tokio::test]
async fn tags_cannot_reach_across_accounts() {
    let s = start().await;
    let mine = s
        .json_as(
            "CreateStack",
            json!({"Name": "mine"}),
            Some(("111111111111", "us-east-1")),
        )
        .await;
    let arn = mine.body["Stack"]["Arn"].clone();
    let r = s
        .json_as(
            "TagResource",
            json!({"ResourceArn": arn, "Tags": {"x": "y"}}),
            Some(("222222222222", "us-east-1")),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "ResourceNotFoundException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_have_exactly_one_winner() {
    let s = Arc::new(start().await);
    for round in 0..5 {
        let name = format!("race-{round}");
        let mut tasks = Vec::new();
        for i in 0..32 {
            let s = s.clone();
            let name = name.clone();
            tasks.push(tokio::spawn(async move {
                let body = json!({"Name": name, "Description": format!("client {i}")});
                if i % 2 == 0 {
                    s.json("CreateStack", body).await
                } else {
                    s.cbor("CreateStack", body).await
                }
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let reply = task.await.unwrap();
            match reply.status {
                200 => winners.push(reply.body["Stack"]["Description"].clone()),
                400 => assert_eq!(reply.code(), "ResourceAlreadyExistsException"),
                other => panic!("unexpected {other}: {reply:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let stored = s.json("DescribeStacks", json!({"Names": [name]})).await;
        assert_eq!(
            stored.body["Stacks"][0]["Description"], winners[0],
            "the stored stack is the winner's"
        );
    }
}
