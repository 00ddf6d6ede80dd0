//! `appstream-local healthcheck`: asks a running server for /_health, so that a container
//! HEALTHCHECK needs no curl or shell in the image.

use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// Ok when `GET http://<addr>/_health` answers 200 within `timeout`.
pub async fn probe(addr: &str, timeout: Duration) -> Result<(), String> {
    tokio::time::timeout(timeout, async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr} failed: {e}"))?;
        tokio::spawn(connection);
        let request = hyper::Request::get("/_health")
            .header("host", addr)
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("GET /_health failed: {e}"))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The answer says why (durable writes stopped, say); a short read is enough.
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let why = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["durable_writes"].as_str().map(str::to_string))
            .map_or_else(String::new, |why| format!(": durable writes {why}"));
        Err(format!("GET /_health answered {status}{why}"))
    })
    .await
    .map_err(|_| format!("no answer from {addr} within {timeout:?}"))?
}
