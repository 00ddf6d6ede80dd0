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
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("GET /_health answered {}", response.status()))
        }
    })
    .await
    .map_err(|_| format!("no answer from {addr} within {timeout:?}"))?
}
