//! Clients that misbehave at the connection level cannot starve the others.

use std::time::{Duration, Instant};

use crate::common::start_with;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config() -> appstream_local::Config {
    appstream_local::Config {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..Default::default()
    }
}

/// Reads until the server closes the connection; what it sent, and how long that took.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept a stalled connection open for {limit:?}"),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn half_sent_headers_are_dropped_while_others_are_served() {
    let s = start_with(config()).await;
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(s.addr).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Tar")
            .await
            .unwrap();
        stalled.push(stream);
    }
    // Meanwhile, well-behaved clients are answered at once.
    let started = Instant::now();
    for i in 0..20 {
        let r = s
            .json("CreateStack", json!({"Name": format!("ok{i}")}))
            .await;
        assert_eq!(r.status, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    for stream in &mut stalled {
        let (_, took) = until_closed(stream, Duration::from_secs(5)).await;
        assert!(took < Duration::from_secs(3), "closed only after {took:?}");
    }
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408() {
    let s = start_with(config()).await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: PhotonAdminProxyService.CreateStack\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 100\r\n\r\n{\"Name\":")
        .await
        .unwrap();
    let mut response = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
        .await
        .expect("no answer to a stalled body")
        .unwrap();
    let text = String::from_utf8_lossy(&response[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("RequestTimeoutException"), "{text}");
    // Nothing was stored.
    assert_eq!(
        s.json("DescribeStacks", json!({})).await.body,
        json!({"Stacks": []})
    );
}

#[tokio::test]
async fn garbage_instead_of_http_closes_only_that_connection() {
    let s = start_with(config()).await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(&[0u8, 159, 146, 150, 13, 10, 13, 10])
        .await
        .unwrap();
    let (reply, _) = until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 400"),
        "{reply}"
    );
    assert_eq!(s.json("DescribeStacks", json!({})).await.status, 200);
}

/// One keep-alive request on `stream`; the answer's status line.
async fn keep_alive_request(stream: &mut TcpStream) -> String {
    let body = br#"{"Names":[]}"#;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: PhotonAdminProxyService.DescribeStacks\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("no answer")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn busy_keep_alive_connections_stay_and_idle_ones_are_closed() {
    // A deadline well above the gap between requests, so a slow machine keeps the margin.
    let deadline = Duration::from_millis(800);
    let s = start_with(appstream_local::Config {
        header_timeout: deadline,
        ..config()
    })
    .await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    // Requests every 100 ms for well past the deadline keep the connection open.
    let started = Instant::now();
    let mut last_sent = Instant::now();
    while started.elapsed() < 2 * deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        last_sent = Instant::now();
        assert_eq!(keep_alive_request(&mut stream).await, "HTTP/1.1 200 OK");
    }
    // Then silence: the connection is closed one deadline after the last answer, which
    // the server wrote after the last request was sent.
    until_closed(&mut stream, Duration::from_secs(5)).await;
    let idle = last_sent.elapsed();
    assert!(
        idle >= deadline && idle < Duration::from_secs(4),
        "closed {idle:?} after the last request was sent"
    );
}

#[tokio::test]
async fn zero_deadlines_mean_none() {
    let s = start_with(appstream_local::Config {
        header_timeout: Duration::ZERO,
        body_timeout: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(keep_alive_request(&mut stream).await, "HTTP/1.1 200 OK");
    // A body sent in two parts, the second a while later, is still read.
    let body = br#"{"Name":"late"}"#;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: PhotonAdminProxyService.CreateStack\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(&body[5..]).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("no answer to a late body")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_followed_by_a_half_close_is_answered_and_executed() {
    let s = start_with(config()).await;
    // The answer may race the end of the input; repeat to give the race its chances.
    for i in 0..20 {
        let body = format!(r#"{{"Name":"half-closed-{i}"}}"#);
        let request = format!(
            "POST / HTTP/1.1\r\nhost: localhost\r\nx-amz-target: PhotonAdminProxyService.CreateStack\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut stream = TcpStream::connect(s.addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
        let (answer, _) = until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "request {i}: {answer:?}"
        );
        let described = s
            .json(
                "DescribeStacks",
                json!({"Names": [format!("half-closed-{i}")]}),
            )
            .await;
        assert_eq!(described.status, 200, "{:?}", described.body);
    }
}
