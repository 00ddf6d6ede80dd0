//! The costliest requests within the body limit, each sent alone while another client
//! keeps calling, with their latency and the server's peak memory.

use hyper::body::Bytes;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use super::client::{api_call, Call, Connection, Wire};
use super::*;

/// A hand-built CBOR body `{key: [item × count]}`, each item given as its raw bytes.
pub(super) fn cbor_list_body(key: &str, count: u32, item: &[u8]) -> Bytes {
    let mut body = vec![0xa1, 0x60 + key.len() as u8];
    body.extend_from_slice(key.as_bytes());
    body.push(0x9a);
    body.extend_from_slice(&count.to_be_bytes());
    for _ in 0..count {
        body.extend_from_slice(item);
    }
    body.into()
}

pub(super) fn with_body(mut call: Call, body: Bytes) -> Call {
    call.body = body;
    call
}

/// The largest requests within the 4 MiB body limit that a hostile probe found costly:
/// each is sent alone while another client keeps calling DescribeStacks by name, and the
/// bench reports the request's latency and answer size, the server's peak RSS above its
/// RSS before, and the other client's worst latency meanwhile.
pub(super) async fn worst_case_requests() -> Value {
    const LIMIT: usize = 4 * 1024 * 1024;
    let (server, _) = spawn_server(false);
    let pid = server.child.id();
    preload(&server.addr, 0, 10_000).await;
    let json_call = |op: &str| api_call(Wire::Json, op, &json!({}));
    let cbor_call = |op: &str| api_call(Wire::Cbor, op, &json!({}));
    let json_list = |key: &str, item: &str| {
        let count = (LIMIT - 16) / (item.len() + 1);
        let items = vec![item; count].join(",");
        Bytes::from(format!("{{\"{key}\":[{items}]}}"))
    };
    let cases: Vec<(&str, Call)> = vec![
        (
            "CBOR DescribeStacks, 2M copies of one name",
            with_body(
                cbor_call("DescribeStacks"),
                cbor_list_body("Names", 2_000_000, &[0x61, b'a']),
            ),
        ),
        (
            "CBOR DescribeStacks, 4M empty names",
            with_body(
                cbor_call("DescribeStacks"),
                cbor_list_body("Names", 4_000_000, &[0x60]),
            ),
        ),
        (
            "CBOR unknown member, 4M-item array",
            with_body(
                cbor_call("DescribeStacks"),
                cbor_list_body("Junk", 4_000_000, &[0x00]),
            ),
        ),
        (
            "JSON DescribeStacks, 1.4M empty names",
            with_body(json_call("DescribeStacks"), json_list("Names", "\"\"")),
        ),
        (
            "JSON unknown member, 2M-item array",
            with_body(json_call("DescribeStacks"), json_list("Junk", "0")),
        ),
        (
            "JSON BatchAssociateUserStack, 40k entries",
            api_call(
                Wire::Json,
                "BatchAssociateUserStack",
                &json!({"UserStackAssociations": (0..40_000).map(|i| json!({"StackName": "", "UserName": format!("u{i}@x.io"), "AuthenticationType": "USERPOOL"})).collect::<Vec<_>>()}),
            ),
        ),
    ];
    let mut rows = Vec::new();
    println!("\nworst-case requests (10k stacks stored; another client calls DescribeStacks by name meanwhile):");
    println!(
        "{:<46} {:>9} {:>7} {:>11} {:>13} {:>16}",
        "request", "body KiB", "status", "latency ms", "peak +RSS MiB", "other max/p50 us"
    );
    for (name, call) in cases {
        assert!(
            call.body.len() <= LIMIT,
            "{name}: {} bytes",
            call.body.len()
        );
        let before = rss_kib(pid);
        reset_peak_rss(pid);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let other = {
            let stop = stop.clone();
            let addr = server.addr.clone();
            tokio::spawn(async move {
                let mut conn = Connection::open(&addr).await;
                let call = api_call(Wire::Json, "DescribeStacks", &json!({"Names": ["s000042"]}));
                let mut latencies = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let started = Instant::now();
                    conn.send(&call).await;
                    latencies.push(started.elapsed().as_micros() as u64);
                }
                latencies.sort_unstable();
                (latencies[latencies.len() / 2], *latencies.last().unwrap())
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut conn = Connection::open(&server.addr).await;
        let started = Instant::now();
        let (status, answer) = conn.send(&call).await;
        let latency = started.elapsed();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (other_p50, other_max) = other.await.unwrap();
        let peak = peak_rss_kib(pid).saturating_sub(before);
        println!(
            "{:<46} {:>9} {:>7} {:>11.1} {:>13.1} {:>16}",
            name,
            call.body.len() / 1024,
            status,
            latency.as_secs_f64() * 1e3,
            peak as f64 / 1024.0,
            format!("{other_max}/{other_p50}")
        );
        rows.push(json!({"request": name, "body_bytes": call.body.len(), "status": status, "answer_bytes": answer.len(), "latency_ms": latency.as_secs_f64() * 1e3, "peak_rss_above_before_kib": peak, "other_client_max_us": other_max, "other_client_p50_us": other_p50}));
    }
    json!(rows)
}
