//! The control answers and other tenants, measured: memory held by slow readers of the big
//! control answers (`/_state`, `/_ui`, `/_requests`), DescribeImages and CreateFleet with
//! one account and with 20,000 in the Region (paired rounds on two servers), and
//! UpdateStack's latency while the state browser and the request history are read in a
//! loop.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{api_call, peak_rss_kib, reset_peak_rss, rss_kib, spawn_server, Call, Wire};
use super::{Connection, Server};

/// Stacks in the one big tenant: each with a long description and tags, about 1 KB.
const BIG_TENANT_STACKS: usize = 20_000;
const SLOW_READERS: usize = 20;
/// Accounts with state in the Region for the cross-account figures.
const ACCOUNTS: usize = 20_000;

pub async fn control_answers() -> Value {
    let mut results = serde_json::Map::new();
    results.insert("slow_readers".into(), slow_readers().await);
    results.insert("other_accounts".into(), other_accounts().await);
    results.insert("writes_while_reading".into(), writes_while_reading().await);
    Value::Object(results)
}

/// A call signed (unverified) as `account`, so that it lands in that account's state.
fn as_account(mut call: Call, account: &str) -> Call {
    call.headers.push((
        "authorization",
        format!("AWS4-HMAC-SHA256 Credential={account}/20261202/us-east-1/appstream/aws4_request, SignedHeaders=host, Signature=00"),
    ));
    call
}

/// `count` calls over 16 connections, each made by `call(i)`; all must succeed.
async fn send_all(addr: &str, count: usize, call: impl Fn(usize) -> Call + Send + Sync + 'static) {
    let call = Arc::new(call);
    let per = count.div_ceil(16);
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (addr, call) = (addr.to_string(), call.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&addr).await;
            for i in (worker * per)..((worker + 1) * per).min(count) {
                let (status, body) = conn.send(&call(i)).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// One tenant of `BIG_TENANT_STACKS` stacks, and a full request history of ~16 KB inputs.
async fn big_server() -> Server {
    let (server, _) = spawn_server(false);
    let description = "d".repeat(200);
    send_all(&server.addr, BIG_TENANT_STACKS, move |i| {
        api_call(
            Wire::Json,
            "CreateStack",
            &json!({"Name": format!("s{i:06}"), "Description": description, "DisplayName": format!("Stack {i}"),
                "Tags": {"team": "platform", "cost-centre": format!("cc-{i}"), "owner": "someone@example.com"}}),
        )
    })
    .await;
    // 1,000 TagResource inputs of 40 tags of 128 + 256 characters: a 15 KB body each.
    send_all(&server.addr, 1000, |i| {
        let tags: serde_json::Map<String, Value> = (0..40)
            .map(|t| (format!("{t:03}{}", "k".repeat(125)), json!("v".repeat(256))))
            .collect();
        api_call(
            Wire::Json,
            "TagResource",
            &json!({"ResourceArn": format!("arn:aws:appstream:us-east-1:000000000000:stack/s{i:06}"), "Tags": tags}),
        )
    })
    .await;
    server
}

/// GETs `path` and returns the answer's length, reading all of it.
fn read_whole(addr: &str, path: &str) -> usize {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{path}: {}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    answer.len()
}

/// Sends a GET for `path` and reads nothing: a reader that has stalled.
fn stalled_reader(addr: &str, path: &str) -> std::net::TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    // The smallest receive buffer, so that the server's side fills fast.
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .connect(&addr.parse::<std::net::SocketAddr>().unwrap().into())
        .unwrap();
    let mut stream: std::net::TcpStream = socket.into();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    stream
}

/// Each answer on a fresh server, so that no figure reuses memory another one freed.
async fn slow_readers() -> Value {
    let mut rows = Vec::new();
    println!("\n{SLOW_READERS} readers that stop reading (one tenant of {BIG_TENANT_STACKS} stacks, 1,000 requests of 15 KB kept):");
    println!(
        "{:<12} {:>12} {:>14} {:>14} {:>12}",
        "answer", "size KiB", "RSS before MiB", "peak +RSS MiB", "+RSS held MiB"
    );
    for path in ["/_state", "/_ui", "/_requests"] {
        let server = big_server().await;
        let pid = server.child.id();
        let size = read_whole(&server.addr, path);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = rss_kib(pid);
        reset_peak_rss(pid);
        let readers: Vec<_> = (0..SLOW_READERS)
            .map(|_| stalled_reader(&server.addr, path))
            .collect();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let held = rss_kib(pid).saturating_sub(before);
        let peak = peak_rss_kib(pid).saturating_sub(before);
        drop(readers);
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!(
            "{:<12} {:>12} {:>14.1} {:>14.1} {:>12.1}",
            path,
            size / 1024,
            before as f64 / 1024.0,
            peak as f64 / 1024.0,
            held as f64 / 1024.0
        );
        rows.push(json!({"path": path, "answer_bytes": size, "rss_before_kib": before, "peak_rss_above_kib": peak, "held_rss_above_kib": held}));
    }
    json!(rows)
}

/// Median latency in µs of `count` calls on one connection, made by `call(i)`.
async fn median_us(addr: &str, count: usize, call: impl Fn(usize) -> Call) -> u64 {
    let mut conn = Connection::open(addr).await;
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let call = call(i);
        let started = Instant::now();
        let (status, body) = conn.send(&call).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        latencies.push(started.elapsed().as_micros() as u64);
    }
    latencies.sort_unstable();
    latencies[count / 2]
}

/// Rounds of the cross-account figures: each measures both servers back to back,
/// alternating which goes first, so that a slow spell of a shared machine lands on both.
const ACCOUNT_ROUNDS: usize = 5;

async fn other_accounts() -> Value {
    // One server where account 111111111111 is alone, one where 20,000 other accounts
    // of its Region hold state.
    let (alone, _) = spawn_server(false);
    let (crowded, _) = spawn_server(false);
    send_all(&crowded.addr, ACCOUNTS, |i| {
        as_account(
            api_call(Wire::Json, "CreateStack", &json!({"Name": "s"})),
            &format!("{:012}", 200_000_000_000u64 + i as u64),
        )
    })
    .await;
    let measure = |addr: String, round: usize| async move {
        let describe = median_us(&addr, 300, |_| {
            as_account(
                api_call(Wire::Json, "DescribeImages", &json!({})),
                "111111111111",
            )
        })
        .await;
        let create = median_us(&addr, 300, |i| {
            as_account(
                api_call(
                    Wire::Json,
                    "CreateFleet",
                    &json!({"Name": format!("f-{round}-{i}"), "InstanceType": "stream.standard.small",
                        "ImageName": "AppStream-WinServer2022-10-08-2025", "ComputeCapacity": {"DesiredInstances": 1}}),
                ),
                "111111111111",
            )
        })
        .await;
        [describe, create]
    };
    // Per call: the medians of each round, alone and crowded, and the rounds' ratios.
    let mut rounds = [(vec![], vec![], vec![]), (vec![], vec![], vec![])];
    for round in 0..ACCOUNT_ROUNDS {
        let (one, many) = if round % 2 == 0 {
            let one = measure(alone.addr.clone(), round).await;
            (one, measure(crowded.addr.clone(), round).await)
        } else {
            let many = measure(crowded.addr.clone(), round).await;
            (measure(alone.addr.clone(), round).await, many)
        };
        for (call, (ones, manys, ratios)) in rounds.iter_mut().enumerate() {
            ones.push(one[call]);
            manys.push(many[call]);
            ratios.push(many[call] as f64 / one[call] as f64);
        }
    }
    println!("\nDescribeImages and CreateFleet (public image), median of 300 calls, one account alone and with {ACCOUNTS} others in the Region, {ACCOUNT_ROUNDS} paired rounds:");
    let mut out = serde_json::Map::new();
    for ((ones, manys, ratios), name) in rounds.into_iter().zip(["DescribeImages", "CreateFleet"]) {
        let (one, many) = (middle(ones), middle(manys));
        let ratio = middle(ratios);
        println!(
            "  {name:<15} {} us -> {} us: {:.2}x ({:.2}-{:.2})",
            one.0, many.0, ratio.0, ratio.1, ratio.2
        );
        out.insert(
            name.into(),
            json!({"alone_us": one.0, "crowded_us": many.0, "ratio": ratio.0, "ratio_range": [ratio.1, ratio.2]}),
        );
    }
    json!({"accounts": ACCOUNTS, "rounds": ACCOUNT_ROUNDS, "calls": out})
}

/// (median, lowest, highest).
fn middle<T: Copy + PartialOrd>(mut values: Vec<T>) -> (T, T, T) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

async fn writes_while_reading() -> Value {
    let server = big_server().await;
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = ["/_ui", "/_requests"]
        .into_iter()
        .map(|path| {
            let (addr, stop) = (server.addr.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) {
                    read_whole(&addr, path);
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let mut conn = Connection::open(&server.addr).await;
    let mut latencies = Vec::new();
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(10) {
        let call = api_call(
            Wire::Json,
            "UpdateStack",
            &json!({"Name": format!("s{:06}", i % BIG_TENANT_STACKS), "Description": format!("update {i}")}),
        );
        let sent = Instant::now();
        let (status, _) = conn.send(&call).await;
        assert_eq!(status, 200);
        latencies.push(sent.elapsed().as_micros() as u64);
        i += 1;
        // A client that writes now and then, not a load generator.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let reads: Vec<usize> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let (p50, p99, max) = (pct(0.5), pct(0.99), *latencies.last().unwrap());
    println!(
        "\nUpdateStack while /_ui and /_requests are read in a loop ({BIG_TENANT_STACKS} stacks; {} and {} reads in 10 s): {} calls, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        reads[0], reads[1], latencies.len(), p50 as f64 / 1e3, p99 as f64 / 1e3, max as f64 / 1e3
    );
    json!({"calls": latencies.len(), "ui_reads": reads[0], "requests_reads": reads[1], "p50_us": p50, "p99_us": p99, "max_us": max})
}
