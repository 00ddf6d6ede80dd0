//! What a web page in the user's browser may do here. The server runs on developers'
//! laptops while they browse, so no other site may read or change it:
//! - every route answers only Host names that are the server's own (loopback names, IP
//!   addresses, the listen host, `--streaming-url-base`'s host and `--allowed-hosts`),
//!   so a page on a DNS-rebinding name (`evil.example` resolving to 127.0.0.1) is
//!   refused before anything is read;
//! - a request that can change state (any method but GET, HEAD and OPTIONS) is refused
//!   when its `Origin` is another site's or `Sec-Fetch-Site` says cross-site or
//!   same-site (another port of localhost is another origin);
//! - a `/_` control's body must be `Content-Type: application/json`, which a page on
//!   another origin cannot send without a CORS preflight, and none is ever granted.
//!
//! Clients that are not browsers send no Origin and no Sec-Fetch-Site and pass.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;
use crate::protocol::{Protocol, CBOR_PATH_PREFIX};

/// The host names this server answers to, besides loopback names and IP addresses.
#[derive(Debug, Clone, Default)]
pub struct OwnHosts {
    /// Lower-case names without a port.
    names: Vec<String>,
    /// `--allowed-hosts '*'`: every name (for a container reached under names not known
    /// in advance; DNS rebinding is then possible and the README says so).
    any: bool,
}

impl OwnHosts {
    /// `names` from `--allowed-hosts` and the server's own (the listen host, the
    /// streaming URL base's host); `*` allows every name.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut own = OwnHosts::default();
        for name in names {
            let name = name.trim();
            if name == "*" {
                own.any = true;
            } else if !name.is_empty() {
                own.names.push(without_port(name).to_ascii_lowercase());
            }
        }
        own
    }

    /// Whether `host` (a Host header's value or an origin's host and port) is one of
    /// this server's names.
    pub fn allows(&self, host: &str) -> bool {
        let name = without_port(host).to_ascii_lowercase();
        let address = name.trim_start_matches('[').trim_end_matches(']');
        // A page can reach an address only under that address, which no other site
        // serves: only names can be rebound.
        self.any
            || address.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.names.contains(&name)
    }
}

/// `host:port` or `[v6]:port` without its port.
fn without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

fn header(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Why a request is refused, or `None` to let it through.
pub fn refusal(own: &OwnHosts, method: &Method, path: &str, headers: &HeaderMap) -> Option<String> {
    let host = header(headers, header::HOST);
    if let Some(host) = host {
        if !own.allows(host) {
            return Some(format!(
                "Host {host:?} is not one of this server's names, so the request may come from \
                 a page on another site (DNS rebinding). Use localhost or an IP address, or \
                 start the server with --allowed-hosts {:?}.",
                without_port(host)
            ));
        }
    } else if headers.contains_key(header::HOST) {
        return Some("The Host header is not valid text.".into());
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let fetch_site = header(headers, "sec-fetch-site");
    if let Some(site @ ("cross-site" | "same-site")) = fetch_site {
        return Some(format!(
            "A {site} request cannot change this server: only its own pages and clients that \
             are not browsers can."
        ));
    }
    match header(headers, header::ORIGIN) {
        // A page whose referrer policy hides its origin sends "null"; its browser still
        // says where it comes from.
        Some("null") if fetch_site == Some("same-origin") => {}
        Some(origin) => {
            let authority = origin
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            // The Host was checked above, so the same origin is one of the server's own.
            if !host.is_some_and(|h| h.eq_ignore_ascii_case(authority)) {
                return Some(format!(
                    "A request from the page at {origin:?} cannot change this server: only its \
                     own pages and clients that are not browsers can."
                ));
            }
        }
        None => {}
    }
    if path.starts_with("/_") && has_body(headers) && !is_json(headers) {
        return Some(
            "The /_ controls take a body only as Content-Type: application/json (with curl: \
             -H 'Content-Type: application/json')."
                .to_string(),
        );
    }
    None
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || header(headers, header::CONTENT_LENGTH).is_some_and(|n| n.trim() != "0")
}

fn is_json(headers: &HeaderMap) -> bool {
    header(headers, header::CONTENT_TYPE).is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// The guard in front of every route.
pub async fn guard(State(own): State<Arc<OwnHosts>>, request: Request, next: Next) -> Response {
    let refused = refusal(
        &own,
        request.method(),
        request.uri().path(),
        request.headers(),
    );
    match refused {
        None => {
            let mut response = next.run(request).await;
            let html = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
            if html {
                // No other site may frame a page to steer its buttons.
                let headers = response.headers_mut();
                headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                headers.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("frame-ancestors 'none'"),
                );
            }
            response
        }
        Some(why) => {
            tracing::warn!(
                method = request.method().as_str(),
                path = request.uri().path(),
                reason = why.as_str(),
                "refused a request a browser page may have sent"
            );
            // An API client gets the refusal in its own protocol, as AccessDenied (which
            // SDKs do not retry); a control's client gets the controls' JSON.
            let path = request.uri().path();
            let protocol = if path.starts_with(CBOR_PATH_PREFIX) {
                Some(Protocol::RpcV2Cbor)
            } else if request.headers().contains_key("x-amz-target") {
                Some(Protocol::AwsJson11)
            } else {
                None
            };
            match protocol {
                Some(protocol) => {
                    // The request id is only echoed, never stored.
                    #[allow(clippy::disallowed_methods)]
                    let request_id = uuid::Uuid::new_v4().to_string();
                    let error = ApiError::new("AccessDeniedException", 403, why);
                    protocol.error_response(&error, &request_id)
                }
                None => (StatusCode::FORBIDDEN, Json(json!({"error": why}))).into_response(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn only_own_names_and_addresses_are_answered() {
        let own = OwnHosts::new(["appstream", "Streams.Test:8443"]);
        for host in [
            "localhost:4599",
            "LOCALHOST",
            "app.localhost:1",
            "127.0.0.1:4599",
            "[::1]:4599",
            "10.1.2.3",
            "appstream:4599",
            "streams.test",
        ] {
            assert!(own.allows(host), "{host}");
        }
        for host in [
            "evil.example:4599",
            "localhost.evil.example",
            "appstream.evil",
            "",
        ] {
            assert!(!own.allows(host), "{host}");
        }
        assert!(OwnHosts::new(["*"]).allows("anything.example"));
    }

    #[test]
    fn other_sites_cannot_change_state() {
        let own = OwnHosts::default();
        let post = Method::POST;
        let refused = |h: &[(&'static str, &str)]| refusal(&own, &post, "/_reset", &headers(h));
        assert!(refused(&[("host", "localhost:4599")]).is_none(), "curl");
        assert!(
            refused(&[("host", "evil.example:4599")]).is_some(),
            "rebinding"
        );
        assert!(refused(&[
            ("host", "localhost:4599"),
            ("origin", "http://evil.example")
        ])
        .is_some());
        assert!(
            refused(&[
                ("host", "localhost:4599"),
                ("origin", "http://localhost:3000")
            ])
            .is_some(),
            "another port is another origin"
        );
        for site in ["cross-site", "same-site"] {
            assert!(refused(&[("host", "localhost:4599"), ("sec-fetch-site", site)]).is_some());
        }
        assert!(refused(&[("host", "localhost:4599"), ("origin", "null")]).is_some());
        assert!(refused(&[
            ("host", "localhost:4599"),
            ("origin", "http://localhost:4599"),
            ("sec-fetch-site", "same-origin")
        ])
        .is_none());
        assert!(
            refused(&[
                ("host", "localhost:4599"),
                ("content-type", "text/plain"),
                ("content-length", "2")
            ])
            .is_some(),
            "a body that is not JSON"
        );
        assert!(refused(&[
            ("host", "localhost:4599"),
            ("content-type", "application/json; charset=utf-8"),
            ("content-length", "2")
        ])
        .is_none());
        // Reading is not changing: a cross-site GET is left to the browser's same-origin
        // rule (no CORS header is ever sent).
        let get = refusal(
            &own,
            &Method::GET,
            "/_state",
            &headers(&[("host", "localhost")]),
        );
        assert!(get.is_none());
    }
}
