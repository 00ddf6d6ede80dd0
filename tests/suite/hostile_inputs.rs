//! Requests a careless or hostile client sends: each is refused cleanly (or answered at
//! a cost bounded by its size), and none changes state it should not.

use crate::common;

use crate::common::{start, start_with, to_cbor, TestServer, Wire};
use serde_json::{json, Value};

async fn stack_names(s: &TestServer) -> Vec<String> {
    s.ok(Wire::Json, "DescribeStacks", json!({})).await["Stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|stack| stack["Name"].as_str().unwrap().to_string())
        .collect()
}

/// The Regions `GET /_state` lists, in its order.
async fn regions_with_state(s: &TestServer) -> Vec<String> {
    s.state("").await["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_malformed_reset_body_is_refused_and_resets_nothing() {
    let s = start().await;
    s.ok(Wire::Json, "CreateStack", json!({"Name": "kept"}))
        .await;
    for body in [
        r#"{"Account": "000000000000", "Region": "us-east-1"}"#,
        r#"{"account": 1, "region": 2}"#,
        r#"{"account": "000000000000"}"#,
        r#"{"account": "0", "region": "us-east-1"}"#,
        r#"{"account": "000000000000", "region": "US-EAST-1"}"#,
        r#"{"account": "000000000000", "region": "us-east-1", "all": true}"#,
        "[]",
        r#"["000000000000", "us-east-1"]"#,
        r#""x""#,
        "{",
        "null",
    ] {
        let (status, reply) = s.control("/_reset", body).await;
        assert_eq!(status, 400, "{body} -> {reply}");
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{reply}"
        );
        assert_eq!(stack_names(&s).await, ["kept"], "{body} reset something");
    }
    let (status, reply) = s.control("/_reset", "{}").await;
    assert_eq!((status, reply), (200, json!({"reset": "all"})));
    assert!(stack_names(&s).await.is_empty());
}

#[tokio::test]
async fn reads_create_no_tenant_and_a_reset_forgets_tenants() {
    let s = start().await;
    for i in 0..50 {
        let region = format!("xx-probe-{i}");
        let reply = s
            .json_as("DescribeStacks", json!({}), Some(("AKID", &region)))
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["Stacks"], json!([]));
    }
    assert_eq!(
        s.state("").await["regions"],
        json!([]),
        "reads kept tenants"
    );

    for region in ["eu-west-1", "eu-west-2", "eu-west-3"] {
        s.json_as("CreateStack", json!({"Name": "s"}), Some(("AKID", region)))
            .await;
    }
    assert_eq!(s.state("").await["regions"].as_array().unwrap().len(), 3);
    let (status, _) = s
        .control(
            "/_reset",
            r#"{"account": "000000000000", "region": "eu-west-2"}"#,
        )
        .await;
    assert_eq!(status, 200);
    let regions = regions_with_state(&s).await;
    assert_eq!(regions, ["eu-west-1", "eu-west-3"]);
    s.control("/_reset", "").await;
    assert_eq!(s.state("").await["regions"], json!([]));
    // A region forgotten by a reset is created afresh by the next write.
    s.json_as(
        "CreateStack",
        json!({"Name": "again"}),
        Some(("AKID", "eu-west-2")),
    )
    .await;
    assert_eq!(s.state("").await["regions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn state_can_be_filtered_to_one_tenant() {
    let s = start().await;
    s.json_as(
        "CreateStack",
        json!({"Name": "a"}),
        Some(("111111111111", "eu-west-1")),
    )
    .await;
    s.json_as(
        "CreateStack",
        json!({"Name": "b"}),
        Some(("222222222222", "eu-west-1")),
    )
    .await;
    let one = s.state("?account=222222222222&region=eu-west-1").await;
    let regions = one["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0]["account"], "222222222222");
    assert!(regions[0]["state"]["stacks"]["b"].is_object());
    assert_eq!(
        s.state("?account=333333333333&region=eu-west-1").await["regions"],
        json!([])
    );
    for query in [
        "?account=222222222222",
        "?region=eu-west-1&x=1",
        "?account=2&region=eu-west-1",
    ] {
        let reply = s.get(&format!("/_state{query}")).await;
        assert_eq!(reply.status().as_u16(), 400, "{query}");
    }
    // The whole state is streamed a tenant at a time, not sent as one sized body.
    let reply = s.get("/_state").await;
    assert_eq!(reply.headers()["transfer-encoding"], "chunked");
}

#[tokio::test]
async fn a_scope_without_a_valid_region_is_refused_and_serves_no_region() {
    let s = start().await;
    let long = format!("us-{}-1", "a".repeat(40));
    for region in ["EU-WEST-1", long.as_str(), "eu_west_1"] {
        let reply = s
            .json_as(
                "CreateStack",
                json!({"Name": "misplaced"}),
                Some(("AKID", region)),
            )
            .await;
        assert_eq!(reply.status, 403, "{region}: {:?}", reply.body);
        assert_eq!(reply.error_code(), "InvalidSignatureException");
        assert!(
            reply.message().contains("valid region"),
            "{}",
            reply.message()
        );
        let cbor = s
            .cbor_request("CreateStack", &json!({"Name": "misplaced"}))
            .header("authorization", common::authorization("AKID", region))
            .send()
            .await
            .unwrap();
        assert_eq!(cbor.status().as_u16(), 403, "{region} over CBOR");
    }
    // SigV4a names its Region in a header; with none there is nothing to serve.
    let sigv4a = "AWS4-ECDSA-P256-SHA256 Credential=AKID/20261126/appstream/aws4_request, SignedHeaders=host, Signature=00";
    let cbor = |region_set: Option<&str>| {
        let mut req = s
            .cbor_request("CreateStack", &json!({"Name": "v4a"}))
            .header("authorization", sigv4a);
        if let Some(set) = region_set {
            req = req.header("x-amz-region-set", set);
        }
        req
    };
    assert_eq!(cbor(None).send().await.unwrap().status().as_u16(), 403);
    assert_eq!(
        cbor(Some("eu-north-1"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let regions = regions_with_state(&s).await;
    assert_eq!(regions, ["eu-north-1"], "no other Region got state");
}

/// A CBOR body built by hand: a one-entry map `{key: <raw value bytes>}`.
fn cbor_map(key: &str, raw_value: &[u8]) -> Vec<u8> {
    let mut body = vec![0xa1, 0x60 + key.len() as u8];
    body.extend_from_slice(key.as_bytes());
    body.extend_from_slice(raw_value);
    body
}

#[tokio::test]
async fn cbor_is_as_strict_as_json() {
    let s = start().await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bytes after the map",
            [to_cbor(&json!({"Name": "trailing"})), vec![0x00]].concat(),
            "after its CBOR map",
        ),
        (
            "a byte string for a text member",
            cbor_map("Name", &[0x43, b'a', b'b', b'c']),
            "Expected a string (a CBOR text string) at 'name', found a byte string.",
        ),
        (
            "a cut-off body",
            cbor_map("Name", &[0x65, b'a']),
            "The request body ends in the middle of a CBOR value.",
        ),
        (
            "a reserved header byte",
            cbor_map("Name", &[0x1c]),
            "not well-formed CBOR at byte offset",
        ),
    ];
    for (what, body, message) in cases {
        let reply = s.cbor_raw("CreateStack", body).await;
        assert_eq!(reply.status, 400, "{what}: {:?}", reply.body);
        assert_eq!(
            reply.error_code(),
            "com.amazonaws.appstream#SerializationException",
            "{what}"
        );
        assert!(
            reply.message().contains(message),
            "{what}: {}",
            reply.message()
        );
        assert!(
            !reply.message().contains("Error {") && !reply.message().contains("Syntax("),
            "{what}: {}",
            reply.message()
        );
    }
    s.ok(Wire::Json, "CreateFleet", json!({"Name": "f", "InstanceType": "stream.standard.small", "ImageName": "AppStream-WinServer2019-10-08-2025", "ComputeCapacity": {"DesiredInstances": 1}})).await;
    // Tag 1 marks timestamps only; on an integer member it is refused.
    let tagged = [
        vec![0xa2, 0x64],
        b"Name".to_vec(),
        vec![0x61, b'f', 0x78, 30],
        b"IdleDisconnectTimeoutInSeconds".to_vec(),
        vec![0xc1, 0x18, 60],
    ]
    .concat();
    let reply = s.cbor_raw("UpdateFleet", tagged).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert!(
        reply.message().contains("found CBOR tag 1"),
        "{}",
        reply.message()
    );
    assert!(
        stack_names(&s).await.is_empty(),
        "a refused body stored something"
    );

    // The protocol's headers are required.
    let url = format!(
        "{}/service/PhotonAdminProxyService/operation/DescribeStacks",
        s.url
    );
    let body = to_cbor(&json!({}));
    let status = |headers: &'static [(&'static str, &'static str)], body: Option<Vec<u8>>| {
        let mut request = s.http().post(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let no_protocol = status(&[("content-type", "application/cbor")], Some(body.clone()));
    assert_eq!(no_protocol.await, 400);
    let wrong_type = status(
        &[
            ("smithy-protocol", "rpc-v2-cbor"),
            ("content-type", "application/json"),
        ],
        Some(body),
    );
    assert_eq!(wrong_type.await, 415);
    let empty = status(&[("smithy-protocol", "rpc-v2-cbor")], None);
    assert_eq!(empty.await, 200, "an empty body needs no content type");
}

#[tokio::test]
async fn repeated_names_are_answered_once_on_both_protocols() {
    let s = start().await;
    s.ok(Wire::Json, "CreateStack", json!({"Name": "a"})).await;
    let names: Vec<&str> = std::iter::repeat_n("a", 1000).collect();
    for wire in [Wire::Json, Wire::Cbor] {
        let reply = s
            .call(wire, "DescribeStacks", json!({"Names": names}))
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["Stacks"].as_array().unwrap().len(), 1);
    }
    // Two million names in a 4 MiB CBOR body are refused while decoding, kept nowhere.
    let mut body = vec![0xa1, 0x65];
    body.extend_from_slice(b"Names");
    body.extend_from_slice(&[0x9a, 0x00, 0x1e, 0x84, 0x80]); // an array of 2,000,000
    for _ in 0..2_000_000 {
        body.extend_from_slice(&[0x61, b'a']);
    }
    let reply = s.cbor_raw("DescribeStacks", body).await;
    assert_eq!(reply.status, 400);
    assert!(reply.message().contains("at 'names' failed to satisfy constraint: Member must have length less than or equal to 1000"), "{}", reply.message());
}

#[tokio::test]
async fn a_huge_invalid_batch_gets_a_short_message_with_a_true_count() {
    let s = start().await;
    let entries = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"StackName": "", "UserName": format!("u{i}@x.io"), "AuthenticationType": "USERPOOL"}))
            .collect()
    };
    let refusal = |wire: Wire, n: usize| {
        let input = json!({"UserStackAssociations": entries(n)});
        let s = &s;
        async move {
            let reply = s.call(wire, "BatchAssociateUserStack", input).await;
            assert_eq!(reply.status, 400);
            reply.message().to_string()
        }
    };
    for wire in [Wire::Json, Wire::Cbor] {
        // Every item examined: the count is true, the first 100 are spelled out.
        let message = refusal(wire, 1000).await;
        assert!(
            message.starts_with("1001 validation errors detected: "),
            "{}",
            &message[..80]
        );
        assert!(message.contains("Member must have length less than or equal to 25"));
        assert!(
            message.ends_with("; and 901 more"),
            "{}",
            &message[message.len() - 80..]
        );
        assert!(
            message.len() < 64 * 1024,
            "a {} byte message",
            message.len()
        );

        // Past 1,000 items a list is refused on its length alone.
        let message = refusal(wire, 40_000).await;
        assert!(
            message.starts_with("1 validation error detected: Value '[{"),
            "{message}"
        );
        assert!(message.ends_with("...(truncated)' at 'userStackAssociations' failed to satisfy constraint: Member must have length less than or equal to 25"), "{message}");
        assert!(message.len() < 4096, "a {} byte message", message.len());
    }
}

#[tokio::test]
async fn members_the_model_does_not_know_are_not_kept() {
    let dir =
        std::env::temp_dir().join(format!("appstream-local-unknown-{}", uuid::Uuid::new_v4()));
    let server = appstream_local::Server::builder()
        .port(0)
        .state_dir(&dir)
        .start()
        .await
        .unwrap();
    let s = TestServer::at(&server.addr().to_string());
    s.ok(Wire::Json, "CreateStack", json!({"Name": "s"})).await;
    let junk = "x".repeat(1024 * 1024);
    for (i, wire) in [Wire::Json, Wire::Cbor].into_iter().enumerate() {
        s.ok(
            wire,
            "UpdateStack",
            json!({"Name": "s", "DisplayName": format!("v{i}"), "Junk": junk, "UserSettings": [
                {"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "DISABLED", "Junk": junk}
            ]}),
        )
        .await;
    }
    let journal = std::fs::metadata(dir.join("journal.log")).unwrap().len();
    assert!(
        journal < 4096,
        "the journal holds {journal} bytes for three small writes"
    );
    let stack = &s
        .ok(Wire::Json, "DescribeStacks", json!({"Names": ["s"]}))
        .await["Stacks"][0];
    assert_eq!(stack["DisplayName"], "v1");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_malformed_reset_body_cannot_hold_its_connection() {
    let s = start_with(appstream_local::Config {
        body_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(b"POST /_reset HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(
        read.is_ok(),
        "the stalled reset body held its connection for 5 s"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn a_map_past_the_item_limit_is_refused_on_its_length_on_both_protocols() {
    let s = start().await;
    let tags: serde_json::Map<String, Value> =
        (0..1001).map(|i| (format!("k{i}"), json!("v"))).collect();
    for wire in [Wire::Json, Wire::Cbor] {
        let reply = s
            .call(wire, "CreateStack", json!({"Name": "tagged", "Tags": tags}))
            .await;
        assert_eq!(reply.status, 400);
        assert!(
            reply.message().starts_with("1 validation error detected: ")
                && reply.message().ends_with(
                    "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
                ),
            "{wire:?}: {}",
            reply.message()
        );
    }
    assert!(stack_names(&s).await.is_empty());
}
