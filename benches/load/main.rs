//! Load, latency, memory and start-up figures for appstream-local, each set against a
//! minimal axum JSON handler measured in the same run on the same machine.
//!
//! `cargo bench --bench load` (BENCH_SECONDS=n sets each measurement's length, default 3;
//! BENCH_OUT=path the results file, default target/bench-results.json).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

mod controls;

const SERVER: &str = env!("CARGO_BIN_EXE_appstream-local");
const CONNECTIONS: [usize; 3] = [1, 16, 64];

#[derive(Clone, Copy, PartialEq)]
enum Wire {
    Json,
    Cbor,
}

impl Wire {
    fn label(self) -> &'static str {
        match self {
            Wire::Json => "json",
            Wire::Cbor => "cbor",
        }
    }
}

/// One request to send: path, headers and body.
#[derive(Clone)]
struct Call {
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

fn api_call(wire: Wire, operation: &str, input: &Value) -> Call {
    match wire {
        Wire::Json => Call {
            path: "/".into(),
            headers: vec![
                ("content-type", "application/x-amz-json-1.1".into()),
                (
                    "x-amz-target",
                    format!("PhotonAdminProxyService.{operation}"),
                ),
            ],
            body: Bytes::from(serde_json::to_vec(input).unwrap()),
        },
        Wire::Cbor => {
            let mut body = Vec::new();
            ciborium::ser::into_writer(input, &mut body).unwrap();
            Call {
                path: format!("/service/PhotonAdminProxyService/operation/{operation}"),
                headers: vec![
                    ("content-type", "application/cbor".into()),
                    ("smithy-protocol", "rpc-v2-cbor".into()),
                ],
                body: Bytes::from(body),
            }
        }
    }
}

/// A keep-alive HTTP/1.1 connection.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Connection {
    async fn open(addr: &str) -> Connection {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        Connection {
            sender,
            host: addr.to_string(),
        }
    }

    async fn send(&mut self, call: &Call) -> (u16, Bytes) {
        let mut request = hyper::Request::post(&call.path).header("host", &self.host);
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        let request = request.body(Full::new(call.body.clone())).unwrap();
        self.sender.ready().await.unwrap();
        let response = self.sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body)
    }
}

#[derive(Clone)]
struct Figures {
    requests_per_second: f64,
    p50_us: u64,
    p99_us: u64,
}

/// Runs `connections` workers for `seconds`; each worker asks `next` for its next call
/// (given its id and its previous response) and records every latency.
async fn drive<F>(addr: &str, connections: usize, seconds: f64, next: F) -> Figures
where
    F: Fn(usize, u64, Option<&Bytes>) -> Call + Send + Sync + 'static,
{
    let next = Arc::new(next);
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for id in 0..connections {
        let addr = addr.to_string();
        let (next, stop, errors) = (next.clone(), stop.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut conn = Connection::open(&addr).await;
            let mut latencies = Vec::with_capacity(100_000);
            let mut previous: Option<Bytes> = None;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let call = next(id, i, previous.as_ref());
                let started = Instant::now();
                let (status, body) = conn.send(&call).await;
                latencies.push(started.elapsed().as_micros() as u64);
                if status != 200 {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                previous = Some(body);
                i += 1;
            }
            latencies
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let failed = errors.load(Ordering::Relaxed);
    assert_eq!(failed, 0, "{failed} requests failed during the measurement");
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        requests_per_second: all.len() as f64 / elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
    }
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server process (ours, or this bench binary as the minimal handler) and waits
/// until it answers; returns it with the time from spawn to the first good response.
fn spawn_server(minimal: bool) -> (Server, Duration) {
    spawn_server_with(minimal, &[])
}

fn spawn_server_with(minimal: bool, extra: &[&str]) -> (Server, Duration) {
    let port = free_port();
    let started = Instant::now();
    let child = if minimal {
        Command::new(std::env::current_exe().unwrap())
            .env("BENCH_MINIMAL_PORT", port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    } else {
        Command::new(SERVER)
            .args(["--port", &port.to_string()])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let addr = format!("127.0.0.1:{port}");
    let path = if minimal { "/" } else { "/_health" };
    loop {
        if probe(&addr, path, minimal) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    (Server { child, addr }, started.elapsed())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One blocking request; true on a 200.
fn probe(addr: &str, path: &str, post: bool) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let method = if post { "POST" } else { "GET" };
    let request = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// A figure in KiB from /proc/PID/status, such as `VmRSS:`.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// What every request to the minimal handler sends.
fn minimal_call() -> Call {
    Call {
        path: "/".into(),
        headers: vec![("content-type", "application/json".into())],
        body: Bytes::from_static(b"{}"),
    }
}

/// The two throughput and latency targets, measured in `rounds` rounds that each run the
/// minimal handler and then both protocols back to back, so that a slow spell of the
/// shared machine lands on both sides of a ratio. Reports the median ratio of the rounds.
async fn paired_rounds(ours: &str, rounds: usize, seconds: f64) -> Value {
    let (minimal, _) = spawn_server(true);
    let minimal_call = minimal_call();
    // (connections, wire) -> per-round throughput ratios and p99 ratios.
    let mut ratios: BTreeMap<_, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for _ in 0..rounds {
        for c in [16, 64] {
            let call = minimal_call.clone();
            let base = drive(&minimal.addr, c, seconds, move |_, _, _| call.clone()).await;
            for wire in [Wire::Json, Wire::Cbor] {
                let f = drive(ours, c, seconds, move |id, i, _| {
                    let n = (id * 7919 + i as usize * 104_729) % 10_000;
                    api_call(
                        wire,
                        "DescribeStacks",
                        &json!({"Names": [format!("s{n:06}")]}),
                    )
                })
                .await;
                let entry = ratios.entry((c, wire.label())).or_default();
                entry
                    .0
                    .push(f.requests_per_second / base.requests_per_second);
                entry.1.push(f.p99_us as f64 / base.p99_us.max(1) as f64);
            }
        }
    }
    // (median, lowest, highest) of the rounds.
    let middle = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    println!("\nDescribeStacks by name (10k stored) against the minimal handler, median (and range) of {rounds} paired rounds:");
    let mut out = Vec::new();
    for ((c, wire), (throughput, p99)) in ratios {
        let ((throughput, t_low, t_high), (p99, p_low, p99_high)) =
            (middle(throughput), middle(p99));
        println!(
            "  {wire:<5} {c:>3} connections: throughput {throughput:.2}x ({t_low:.2}-{t_high:.2}), p99 {p99:.2}x ({p_low:.2}-{p99_high:.2})"
        );
        out.push(json!({
            "wire": wire, "connections": c, "rounds": rounds,
            "throughput_vs_minimal": throughput, "throughput_range": [t_low, t_high],
            "p99_vs_minimal": p99, "p99_range": [p_low, p99_high],
        }));
    }
    println!();
    json!(out)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Creates `count` stacks named `s000000`.. over 16 connections.
async fn preload(addr: &str, from: usize, count: usize) {
    let per = count.div_ceil(16);
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&addr).await;
            for i in (from + worker * per)..(from + ((worker + 1) * per).min(count)) {
                let call = api_call(
                    Wire::Json,
                    "CreateStack",
                    &json!({"Name": format!("s{i:06}")}),
                );
                let (status, _) = conn.send(&call).await;
                assert_eq!(status, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Median latency in microseconds of `count` sequential calls on one connection.
async fn sequential_latency(addr: &str, count: usize, call: impl Fn(usize) -> Call) -> u64 {
    let mut conn = Connection::open(addr).await;
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let c = call(i);
        let started = Instant::now();
        let (status, _) = conn.send(&c).await;
        assert_eq!(status, 200);
        latencies.push(started.elapsed().as_micros() as u64);
    }
    latencies.sort_unstable();
    latencies[count / 2]
}

fn next_token(wire: Wire, body: Option<&Bytes>) -> Option<String> {
    let body = body?;
    match wire {
        Wire::Json => {
            let v: Value = serde_json::from_slice(body).ok()?;
            v.get("NextToken")?.as_str().map(String::from)
        }
        // CBOR replies carry tagged timestamps, which a JSON value cannot hold.
        Wire::Cbor => {
            let v: ciborium::Value = ciborium::de::from_reader(&body[..]).ok()?;
            v.as_map()?
                .iter()
                .find(|(k, _)| k.as_text() == Some("NextToken"))
                .and_then(|(_, v)| v.as_text())
                .map(String::from)
        }
    }
}

fn minimal_server(port: u16) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(|| async { axum::Json(json!({"ok": true})) }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}

fn main() {
    if let Ok(port) = std::env::var("BENCH_MINIMAL_PORT") {
        minimal_server(port.parse().unwrap());
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` would not: only run when asked.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let out = std::env::var("BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-results.json").into()
    });
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // BENCH_ONLY=worst or =controls runs just that part.
    let results = match std::env::var("BENCH_ONLY").as_deref() {
        Ok("worst") => runtime.block_on(worst_case_requests()),
        Ok("controls") => runtime.block_on(controls::control_answers()),
        _ => runtime.block_on(run(seconds, rounds)),
    };
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap() + "\n").unwrap();
    println!("\nresults written to {out}");
}

async fn run(seconds: f64, rounds: usize) -> Value {
    let mut results = BTreeMap::new();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {cpus} CPUs; {seconds} s per measurement; loopback, keep-alive connections\n"
    );

    // Cold start: spawn to first good response, median of 20.
    let cold = |minimal: bool| median((0..20).map(|_| spawn_server(minimal).1).collect());
    let (cold_ours, cold_minimal) = (cold(false), cold(true));
    println!(
        "cold start (median of 20): appstream-local {:.2} ms, minimal handler {:.2} ms, ratio {:.2}x",
        cold_ours.as_secs_f64() * 1e3,
        cold_minimal.as_secs_f64() * 1e3,
        cold_ours.as_secs_f64() / cold_minimal.as_secs_f64()
    );
    results.insert(
        "cold_start_ms",
        json!({"ours": cold_ours.as_secs_f64() * 1e3, "minimal": cold_minimal.as_secs_f64() * 1e3}),
    );

    // The minimal handler: the ceiling for this stack of software on this machine.
    let (minimal, _) = spawn_server(true);
    let minimal_call = minimal_call();
    let mut baseline = BTreeMap::new();
    println!(
        "\n{:<44} {:>5} {:>10} {:>8} {:>8} {:>10}",
        "scenario", "conns", "req/s", "p50 us", "p99 us", "vs minimal"
    );
    for c in CONNECTIONS {
        let call = minimal_call.clone();
        let f = drive(&minimal.addr, c, seconds, move |_, _, _| call.clone()).await;
        println!(
            "{:<44} {:>5} {:>10.0} {:>8} {:>8} {:>10}",
            "minimal axum JSON handler", c, f.requests_per_second, f.p50_us, f.p99_us, "1.00x"
        );
        baseline.insert(c, f);
    }
    results.insert("minimal_rss_kib", json!(rss_kib(minimal.child.id())));
    drop(minimal);

    let (server, _) = spawn_server(false);
    let pid = server.child.id();
    let idle_rss = rss_kib(pid);
    let mut scenarios = Vec::new();
    let report = |name: String, c: usize, f: &Figures, scenarios: &mut Vec<Value>| {
        let base = &baseline[&c];
        let ratio = f.requests_per_second / base.requests_per_second;
        println!(
            "{:<44} {:>5} {:>10.0} {:>8} {:>8} {:>9.2}x",
            name, c, f.requests_per_second, f.p50_us, f.p99_us, ratio
        );
        scenarios.push(json!({
            "scenario": name, "connections": c, "requests_per_second": f.requests_per_second,
            "p50_us": f.p50_us, "p99_us": f.p99_us,
            "throughput_vs_minimal": ratio, "p99_vs_minimal": f.p99_us as f64 / base.p99_us.max(1) as f64,
        }));
    };

    for wire in [Wire::Json, Wire::Cbor] {
        for c in CONNECTIONS {
            let prefix = format!("{}-{c}", wire.label());
            let f = drive(&server.addr, c, seconds, move |id, i, _| {
                api_call(
                    wire,
                    "CreateStack",
                    &json!({"Name": format!("c-{prefix}-{id}-{i}")}),
                )
            })
            .await;
            report(
                format!("CreateStack, unique names ({})", wire.label()),
                c,
                &f,
                &mut scenarios,
            );
        }
    }
    // Durable writes: every answer waits for the journal's fsync (shared by the writers
    // waiting at the same time), on whatever disk holds the target directory.
    let state_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("bench-state-{}", std::process::id()));
    let (durable, _) = spawn_server_with(false, &["--state-dir", state_dir.to_str().unwrap()]);
    for c in CONNECTIONS {
        let f = drive(&durable.addr, c, seconds, move |id, i, _| {
            api_call(
                Wire::Json,
                "CreateStack",
                &json!({"Name": format!("d-{c}-{id}-{i}")}),
            )
        })
        .await;
        report(
            "CreateStack, --state-dir, fsynced (json)".to_string(),
            c,
            &f,
            &mut scenarios,
        );
    }
    drop(durable);
    let _ = std::fs::remove_dir_all(&state_dir);

    // Reset to exactly 10,000 stacks for the describe scenarios.
    drop(server);
    let (server, _) = spawn_server(false);
    preload(&server.addr, 0, 10_000).await;
    let rss_10k = rss_kib(server.child.id());
    for wire in [Wire::Json, Wire::Cbor] {
        for c in CONNECTIONS {
            let f = drive(&server.addr, c, seconds, move |id, i, _| {
                let n = (id * 7919 + i as usize * 104_729) % 10_000;
                api_call(
                    wire,
                    "DescribeStacks",
                    &json!({"Names": [format!("s{n:06}")]}),
                )
            })
            .await;
            report(
                format!("DescribeStacks by name, 10k stored ({})", wire.label()),
                c,
                &f,
                &mut scenarios,
            );
        }
    }
    let targets = paired_rounds(&server.addr, rounds, seconds.min(2.0)).await;
    results.insert("targets", targets);
    for wire in [Wire::Json, Wire::Cbor] {
        for c in CONNECTIONS {
            let f = drive(&server.addr, c, seconds, move |_, _, previous| {
                let input = match next_token(wire, previous) {
                    Some(token) => json!({"NextToken": token}),
                    None => json!({}),
                };
                api_call(wire, "DescribeStacks", &input)
            })
            .await;
            report(
                format!("DescribeStacks pages, 10k stored ({})", wire.label()),
                c,
                &f,
                &mut scenarios,
            );
        }
        // One client walking all 400 pages.
        let started = Instant::now();
        let mut conn = Connection::open(&server.addr).await;
        let (mut token, mut pages) = (None::<String>, 0);
        loop {
            let input = token
                .as_ref()
                .map_or(json!({}), |t| json!({"NextToken": t}));
            let (_, body) = conn.send(&api_call(wire, "DescribeStacks", &input)).await;
            pages += 1;
            token = next_token(wire, Some(&body));
            if token.is_none() {
                break;
            }
        }
        let ms = started.elapsed().as_secs_f64() * 1e3;
        println!(
            "full DescribeStacks pagination of 10k stacks ({}): {pages} pages in {ms:.1} ms",
            wire.label()
        );
        results.insert(
            if wire == Wire::Json {
                "full_pagination_ms_json"
            } else {
                "full_pagination_ms_cbor"
            },
            json!(ms),
        );
    }
    drop(server);

    // Cost independent of size: 100 stacks vs 100,000.
    let mut scaling = BTreeMap::new();
    for count in [100usize, 100_000] {
        let (server, _) = spawn_server(false);
        preload(&server.addr, 0, count).await;
        let rss = rss_kib(server.child.id());
        let by_name = sequential_latency(&server.addr, 2_000, |i| {
            api_call(
                Wire::Json,
                "DescribeStacks",
                &json!({"Names": [format!("s{:06}", (i * 7919) % count)]}),
            )
        })
        .await;
        let first_page = sequential_latency(&server.addr, 2_000, |_| {
            api_call(Wire::Json, "DescribeStacks", &json!({}))
        })
        .await;
        println!("{count:>7} stacks: RSS {:.1} MiB, DescribeStacks by name p50 {by_name} us, one page p50 {first_page} us", rss as f64 / 1024.0);
        // GET /_state of everything: what it costs the server while and after it answers.
        let pid = server.child.id();
        reset_peak_rss(pid);
        let started = Instant::now();
        let dump = dump_state(&server.addr);
        let state_ms = started.elapsed().as_secs_f64() * 1e3;
        let (peak, after) = (peak_rss_kib(pid), rss_kib(pid));
        println!(
            "{count:>7} stacks: GET /_state {:.1} MiB in {state_ms:.0} ms, peak RSS {:.1} MiB, RSS after {:.1} MiB",
            dump as f64 / 1048576.0,
            peak as f64 / 1024.0,
            after as f64 / 1024.0
        );
        scaling.insert(count.to_string(), json!({"rss_kib": rss, "describe_by_name_p50_us": by_name, "one_page_p50_us": first_page, "state_dump_bytes": dump, "state_dump_ms": state_ms, "state_dump_peak_rss_kib": peak, "rss_after_state_dump_kib": after}));
    }
    println!(
        "\nRSS: idle {:.1} MiB, 10k stacks {:.1} MiB",
        idle_rss as f64 / 1024.0,
        rss_10k as f64 / 1024.0
    );
    let _ = pid;
    results.insert("idle_rss_kib", json!(idle_rss));
    results.insert("rss_10k_stacks_kib", json!(rss_10k));
    results.insert("scaling", json!(scaling));
    results.insert("scenarios", json!(scenarios));
    results.insert(
        "minimal",
        json!(baseline
            .iter()
            .map(|(c, f)| json!({"connections": c, "requests_per_second": f.requests_per_second, "p50_us": f.p50_us, "p99_us": f.p99_us}))
            .collect::<Vec<_>>()),
    );
    results.insert("worst_case_requests", worst_case_requests().await);
    results.insert("control_answers", controls::control_answers().await);
    results.insert("cpus", json!(cpus));
    json!(results)
}

/// GETs /_state and reads the whole answer; its size in bytes.
fn dump_state(addr: &str) -> usize {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            format!("GET /_state HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    answer.len()
}

/// Peak RSS since the last `reset_peak_rss`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

/// Starts a new peak-RSS measurement (Linux: writing 5 to clear_refs).
fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// A hand-built CBOR body `{key: [item × count]}`, each item given as its raw bytes.
fn cbor_list_body(key: &str, count: u32, item: &[u8]) -> Bytes {
    let mut body = vec![0xa1, 0x60 + key.len() as u8];
    body.extend_from_slice(key.as_bytes());
    body.push(0x9a);
    body.extend_from_slice(&count.to_be_bytes());
    for _ in 0..count {
        body.extend_from_slice(item);
    }
    body.into()
}

fn with_body(mut call: Call, body: Bytes) -> Call {
    call.body = body;
    call
}

/// The largest requests within the 4 MiB body limit that a hostile probe found costly:
/// each is sent alone while another client keeps calling DescribeStacks by name, and the
/// bench reports the request's latency and answer size, the server's peak RSS above its
/// RSS before, and the other client's worst latency meanwhile.
async fn worst_case_requests() -> Value {
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
