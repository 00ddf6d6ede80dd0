//! Load, latency, memory and start-up figures for appstream-local, each set against a
//! minimal axum JSON handler measured in the same run on the same machine.
//!
//! `cargo bench --bench load` (BENCH_SECONDS=n sets each measurement's length, default 3;
//! BENCH_OUT=path the results file, default target/bench-results.json).

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use serde_json::{json, Value};

mod client;
mod controls;
mod worst;

use client::{api_call, drive, next_token, Call, Connection, Figures, Wire};
use worst::worst_case_requests;

const SERVER: &str = env!("CARGO_BIN_EXE_appstream-local");

const CONNECTIONS: [usize; 3] = [1, 16, 64];

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
