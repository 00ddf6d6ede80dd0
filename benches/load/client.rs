//! The bench's client: calls in either protocol, keep-alive connections, and a driver
//! that keeps N connections busy and records every latency.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Wire {
    Json,
    Cbor,
}

impl Wire {
    pub(super) fn label(self) -> &'static str {
        match self {
            Wire::Json => "json",
            Wire::Cbor => "cbor",
        }
    }
}

/// One request to send: path, headers and body.
#[derive(Clone)]
pub(super) struct Call {
    pub(super) path: String,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Bytes,
}

pub(super) fn api_call(wire: Wire, operation: &str, input: &Value) -> Call {
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
pub(super) struct Connection {
    pub(super) sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    pub(super) host: String,
}

impl Connection {
    pub(super) async fn open(addr: &str) -> Connection {
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

    pub(super) async fn send(&mut self, call: &Call) -> (u16, Bytes) {
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
pub(super) struct Figures {
    pub(super) requests_per_second: f64,
    pub(super) p50_us: u64,
    pub(super) p99_us: u64,
}

/// Runs `connections` workers for `seconds`; each worker asks `next` for its next call
/// (given its id and its previous response) and records every latency.
pub(super) async fn drive<F>(addr: &str, connections: usize, seconds: f64, next: F) -> Figures
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

pub(super) fn next_token(wire: Wire, body: Option<&Bytes>) -> Option<String> {
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
