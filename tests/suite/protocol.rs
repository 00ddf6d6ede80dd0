//! Wire-level behaviour of both protocols: framing, headers, and AWS-shaped errors for
//! requests that never reach a handler.

use crate::common;

use crate::common::{start, WIRES};
use serde_json::json;

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_its_content_type() {
    let s = start().await;
    let ok = s.json("DescribeStacks", json!({})).await;
    let err = s.json("DeleteStack", json!({"Name": "none"})).await;
    for reply in [&ok, &err] {
        assert!(is_uuid(reply.header("x-amzn-requestid")), "{reply:?}");
        assert_eq!(reply.header("content-type"), "application/x-amz-json-1.1");
    }
    assert_eq!(err.header("x-amzn-errortype"), "ResourceNotFoundException");
    assert_eq!(err.body["__type"], "ResourceNotFoundException");
    let message = err.body["message"].as_str().unwrap().to_string();
    assert!(message.contains("none"), "{message}");
    assert_eq!(err.body["Message"], message.as_str());

    let ok = s.cbor("DescribeStacks", json!({})).await;
    let err = s.cbor("DeleteStack", json!({"Name": "none"})).await;
    for reply in [&ok, &err] {
        assert!(is_uuid(reply.header("x-amzn-requestid")), "{reply:?}");
        assert_eq!(reply.header("content-type"), "application/cbor");
        assert_eq!(reply.header("smithy-protocol"), "rpc-v2-cbor");
    }
    assert_eq!(
        err.body["__type"],
        "com.amazonaws.appstream#ResourceNotFoundException"
    );
    assert_eq!(
        err.body["message"],
        message.as_str(),
        "the same text on both"
    );
    assert_eq!(err.body["Message"], message.as_str());
    assert_eq!(err.status, 404);
}

#[tokio::test]
async fn an_empty_body_is_an_empty_input() {
    let s = start().await;
    let json_reply = s
        .json_raw(Some("PhotonAdminProxyService.DescribeStacks"), vec![], None)
        .await;
    assert_eq!(
        (json_reply.status, json_reply.body.clone()),
        (200, json!({"Stacks": []}))
    );
    let cbor_reply = s.cbor_raw("DescribeStacks", vec![]).await;
    assert_eq!(
        (cbor_reply.status, cbor_reply.body.clone()),
        (200, json!({"Stacks": []}))
    );
    // Required members are still required.
    let missing = s.cbor_raw("CreateStack", vec![]).await;
    assert_eq!(missing.code(), "ValidationException");
    assert!(missing
        .message()
        .contains("Value null at 'name' failed to satisfy constraint: Member must not be null"));
}

#[tokio::test]
async fn malformed_bodies_and_wrong_types_are_serialization_errors() {
    let s = start().await;
    let target = Some("PhotonAdminProxyService.CreateStack");
    for body in [
        &b"{not json"[..],
        b"[1,2]",
        b"\"text\"",
        b"{\"Name\": 5}",
        b"{\"Name\": \"ok\", \"UserSettings\": {}}",
    ] {
        let reply = s.json_raw(target, body.to_vec(), None).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "SerializationException"),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    for body in [
        vec![0xff, 0x00],
        vec![0xa1, 0x01, 0x02],
        common::to_cbor(&json!({"Name": ["x"]})),
    ] {
        let reply = s.cbor_raw("CreateStack", body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "SerializationException"),
            "{reply:?}"
        );
    }
    // Nothing was stored by any of them.
    assert_eq!(
        s.json("DescribeStacks", json!({})).await.body,
        json!({"Stacks": []})
    );
}

#[tokio::test]
async fn indefinite_length_cbor_maps_and_tagged_timestamps_are_accepted() {
    let s = start().await;
    // {_ "Name": "indef", "Tags": {_ "k": "v"}} as the SDKs send it.
    let mut body = vec![0xbf];
    body.extend([0x64]);
    body.extend(b"Name");
    body.extend([0x65]);
    body.extend(b"indef");
    body.extend([0x64]);
    body.extend(b"Tags");
    body.extend([0xbf, 0x61, b'k', 0x61, b'v', 0xff]);
    body.push(0xff);
    let reply = s.cbor_raw("CreateStack", body).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["Stack"]["Name"], "indef");
    assert!(
        reply.body["Stack"]["CreatedTime"]["$epoch"].is_number(),
        "CreatedTime must be tag 1: {reply:?}"
    );
}

#[tokio::test]
async fn unknown_operations_and_targets_are_refused_in_aws_form() {
    let s = start().await;
    let r = s
        .json_raw(
            Some("PhotonAdminProxyService.FlyToTheMoon"),
            b"{}".to_vec(),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "UnknownOperationException"));
    assert!(r.message().contains("FlyToTheMoon"));
    let r = s
        .json_raw(Some("DynamoDB_20120810.ListTables"), b"{}".to_vec(), None)
        .await;
    assert_eq!((r.status, r.code()), (400, "UnknownOperationException"));
    let r = s.json_raw(None, b"{}".to_vec(), None).await;
    assert_eq!((r.status, r.code()), (400, "UnknownOperationException"));
    assert!(r.message().contains("X-Amz-Target"));

    let r = s.cbor_raw("FlyToTheMoon", vec![]).await;
    assert_eq!((r.status, r.code()), (404, "UnknownOperationException"));
    assert_eq!(r.header("smithy-protocol"), "rpc-v2-cbor");
}

#[tokio::test]
async fn known_operations_not_yet_built_say_so_by_name() {
    use appstream_local::api::dispatch::is_implemented;
    use appstream_local::generated::operations::Operation;
    let s = start().await;
    let unbuilt = Operation::ALL.iter().filter(|op| !is_implemented(**op));
    for op in unbuilt {
        for wire in WIRES {
            let r = s.call(wire, op.name(), json!({})).await;
            assert_eq!(
                (r.status, r.code()),
                (501, "NotImplementedException"),
                "{wire:?} {}",
                op.name()
            );
            assert!(r.message().contains(op.name()), "{}", r.message());
        }
    }
}

#[tokio::test]
async fn oversized_bodies_get_413_and_the_server_stays_up() {
    let s = common::start_with(appstream_local::Config {
        max_body_bytes: 64 * 1024,
        ..Default::default()
    })
    .await;
    let huge = json!({"Name": "big", "Description": "x".repeat(100 * 1024)});
    for wire in WIRES {
        let r = s.call(wire, "CreateStack", huge.clone()).await;
        assert_eq!(r.status, 413, "{wire:?} {r:?}");
        assert_eq!(r.code(), "RequestEntityTooLargeException");
    }
    // Within the limit, the same member is judged by the model instead.
    let r = s
        .json(
            "CreateStack",
            json!({"Name": "big", "Description": "x".repeat(300)}),
        )
        .await;
    assert_eq!(r.code(), "ValidationException");
    assert_eq!(s.json("DescribeStacks", json!({})).await.status, 200);
}

#[tokio::test]
async fn deeply_nested_input_is_refused_cleanly() {
    let s = start().await;
    let mut nested = String::from("{\"Name\":\"n\",\"X\":");
    nested.push_str(&"[".repeat(10_000));
    nested.push_str(&"]".repeat(10_000));
    nested.push('}');
    let r = s
        .json_raw(
            Some("PhotonAdminProxyService.CreateStack"),
            nested.into_bytes(),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "SerializationException"));
    let mut cbor = vec![0xa2, 0x64];
    cbor.extend(b"Name");
    cbor.extend([0x61, b'n', 0x61, b'X']);
    cbor.extend(std::iter::repeat_n(0x81, 10_000));
    cbor.push(0x00);
    let r = s.cbor_raw("CreateStack", cbor).await;
    assert_eq!((r.status, r.code()), (400, "SerializationException"));
}

#[tokio::test]
async fn health_lists_the_implemented_operations() {
    let s = start().await;
    let bytes = reqwest::get(format!("{}/_health", s.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let ops: Vec<&str> = body["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for op in [
        "CreateStack",
        "DescribeStacks",
        "UpdateStack",
        "DeleteStack",
        "ListTagsForResource",
        "TagResource",
        "UntagResource",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    // Exactly the implemented operations, whichever those are.
    let implemented: Vec<&str> = appstream_local::api::dispatch::IMPLEMENTED
        .iter()
        .map(|op| op.name())
        .collect();
    assert_eq!(ops, implemented);
}

#[tokio::test]
async fn non_post_requests_are_refused() {
    let s = start().await;
    let r = reqwest::get(format!(
        "{}/service/PhotonAdminProxyService/operation/DescribeStacks",
        s.url
    ))
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 405);
}
