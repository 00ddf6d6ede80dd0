//! The big control answers (`/_state`, `/_ui`, `/_requests`) are written in pieces: whole
//! and consistent across many pieces, at most eight at once, and a reader that stops
//! reading holds no lock an API call needs, nor its turn for long.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{start, TestServer, Wire};

async fn state(s: &TestServer) -> Value {
    let reply = s.get("/_state").await;
    assert_eq!(reply.status().as_u16(), 200);
    serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_of_many_pieces_are_whole() {
    let s = start().await;
    for i in 0..700 {
        s.ok(
            Wire::Json,
            "CreateStack",
            json!({"Name": format!("s{i:03}"), "Tags": {"n": i.to_string()}}),
        )
        .await;
    }
    for i in 0..300 {
        let user = format!("user{i:03}@example.com");
        s.ok(
            Wire::Cbor,
            "CreateUser",
            json!({"UserName": user, "AuthenticationType": "USERPOOL"}),
        )
        .await;
        s.ok(Wire::Json, "BatchAssociateUserStack", json!({"UserStackAssociations": [{"StackName": "s000", "UserName": user, "AuthenticationType": "USERPOOL"}]})).await;
    }
    let dump = state(&s).await;
    let region = &dump["regions"][0]["state"];
    assert_eq!(region["stacks"].as_object().unwrap().len(), 700);
    assert_eq!(region["stacks"]["s699"]["Name"], "s699");
    let tags = region["tags"]["by_arn"].as_object().unwrap();
    assert_eq!(tags.len(), 700);
    assert_eq!(
        tags["arn:aws:appstream:us-east-1:000000000000:stack/s500"],
        json!({"n": "500"})
    );
    let users = region["users"].as_object().unwrap();
    assert_eq!(users.len(), 300);
    let pairs = region["user_stacks"].as_array().unwrap();
    assert_eq!(pairs.len(), 300);
    for pair in pairs {
        let user = pair[1].as_str().unwrap();
        assert!(
            user.starts_with("***") && users.contains_key(user),
            "{pair}"
        );
    }
    assert!(!dump.to_string().contains("@example.com"));

    let page = s.get("/_ui").await.text().await.unwrap();
    assert!(page.trim_end().ends_with("</html>"), "the page is whole");
    let rows = |family: &str| {
        page.matches(&format!("href=\"/_ui/000000000000/us-east-1/{family}/"))
            .count()
    };
    assert_eq!((rows("stacks"), rows("users")), (700, 300));
    assert!(page.contains("n=500"), "a stack's tags show beside it");
    assert!(!page.contains("@example.com"));
    // A user's page is found by the pseudonym the overview links it by.
    let link = page
        .split("/users/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let user_page = s
        .get(&format!("/_ui/000000000000/us-east-1/users/{link}"))
        .await;
    assert_eq!(user_page.status().as_u16(), 200);
    assert!(!user_page.text().await.unwrap().contains("@example.com"));

    let history: Value =
        serde_json::from_slice(&s.get("/_requests").await.bytes().await.unwrap()).unwrap();
    let requests = history["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1000, "the last 1,000 of 1,300");
    assert_eq!(requests[999]["operation"], "BatchAssociateUserStack");
    assert!(requests
        .windows(2)
        .all(|w| w[0]["time"].as_str() <= w[1]["time"].as_str()));
}

/// Asks for `path` and reads nothing more than fits a tiny buffer: a reader that stalled.
fn stalled_reader(s: &TestServer, path: &str) -> std::net::TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&s.addr.into()).unwrap();
    let mut stream: std::net::TcpStream = socket.into();
    write!(stream, "GET {path} HTTP/1.1\r\nhost: {}\r\n\r\n", s.addr).unwrap();
    stream
}

/// 1,000 stacks with 15 KB of tags each: every answer is far more than the sockets hold.
async fn fill_beyond_the_sockets(s: &TestServer) {
    let tags: serde_json::Map<String, Value> = (0..40)
        .map(|t| (format!("{t:03}{}", "k".repeat(125)), json!("v".repeat(256))))
        .collect();
    for i in 0..1000 {
        s.ok(
            Wire::Json,
            "CreateStack",
            json!({"Name": format!("s{i:04}"), "Tags": tags}),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_big_answers_at_once_and_a_stalled_reader_holds_no_lock() {
    let s = start().await;
    fill_beyond_the_sockets(&s).await;
    let stalled: Vec<_> = ["/_state", "/_ui", "/_requests"]
        .iter()
        .cycle()
        .take(8)
        .map(|path| stalled_reader(&s, path))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The API goes on: no stalled answer holds the tenant's lock.
    s.ok(
        Wire::Json,
        "UpdateStack",
        json!({"Name": "s0500", "Description": "changed while eight answers stall"}),
    )
    .await;
    s.ok(Wire::Cbor, "CreateStack", json!({"Name": "new"}))
        .await;

    // A ninth waits for a turn, then is told to come back.
    let started = Instant::now();
    let busy = s.get("/_state").await;
    assert_eq!(busy.status().as_u16(), 503);
    assert!(started.elapsed() >= Duration::from_secs(1), "it waited");
    assert_eq!(busy.headers()["retry-after"], "1");
    let body: Value = serde_json::from_slice(&busy.bytes().await.unwrap()).unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("8 large control answers"),
        "{body}"
    );

    // Once the stalled readers go, their turns are free again.
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dump = state(&s).await;
    let stacks = &dump["regions"][0]["state"]["stacks"];
    assert_eq!(stacks.as_object().unwrap().len(), 1001);
    assert_eq!(
        stacks["s0500"]["Description"],
        "changed while eight answers stall"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stalls_loses_its_turn_and_its_answer_ends_in_an_error() {
    let s = start().await;
    fill_beyond_the_sockets(&s).await;
    let mut stalled: Vec<_> = (0..8).map(|_| stalled_reader(&s, "/_state")).collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.get("/_state").await.status().as_u16(),
        503,
        "all turns taken"
    );

    // The stalled readers still hold their connections, but after 10 s of taking
    // nothing they no longer hold the turns.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let dump = state(&s).await;
    assert_eq!(
        dump["regions"][0]["state"]["stacks"]
            .as_object()
            .unwrap()
            .len(),
        1000
    );

    // What a stalled reader gets when it reads at last is not a whole answer: the
    // connection ends without the chunked body's last chunk.
    let reader = &mut stalled[0];
    reader
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut got = Vec::new();
    reader
        .read_to_end(&mut got)
        .expect("the server ends the connection");
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &got[..got.len().min(100)]
    );
    assert!(got.len() < dump.to_string().len(), "{} bytes", got.len());
    assert!(!got.ends_with(b"\r\n0\r\n\r\n"), "ended as if whole");
}
