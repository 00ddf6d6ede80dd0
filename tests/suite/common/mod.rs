//! An in-process server on port 0 and clients for both wire protocols.
#![allow(dead_code)]

mod processes;

pub use processes::{
    script_fails_to_start, spawn_binary, spawn_script, start_up_fails, temp_dir, Running, TempDir,
};

use std::net::SocketAddr;

use appstream_local::Config;
use aws_sdk_appstream::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;

pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    http: reqwest::Client,
    /// The embedded server, which stops when this is dropped.
    _server: Option<appstream_local::launch::RunningServer>,
}

pub async fn start() -> TestServer {
    start_with(Config::default()).await
}

/// A server embedded through the library's builder, on a free port.
pub async fn start_with(config: Config) -> TestServer {
    let server = appstream_local::Server::builder()
        .port(0)
        .config(config)
        .start()
        .await
        .unwrap();
    TestServer {
        addr: server.addr(),
        url: server.url().to_string(),
        http: reqwest::Client::new(),
        _server: Some(server),
    }
}

/// What came back from a raw request.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error_code(&self) -> &str {
        self.body["__type"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

/// Sends `req` and reads the whole reply; an empty body reads as null.
async fn read_reply(
    req: reqwest::RequestBuilder,
    decode: impl Fn(&[u8]) -> Value,
) -> Result<Reply, reqwest::Error> {
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        decode(&bytes)
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// A JSON reply body; one that is not JSON reads as a string.
fn decode_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::String(String::from_utf8_lossy(bytes).into()))
}

/// A CBOR reply body in JSON form.
fn decode_cbor(bytes: &[u8]) -> Value {
    cbor_to_json(ciborium::de::from_reader(bytes).unwrap())
}

/// A SigV4-shaped Authorization header naming the access key and region.
pub fn authorization(access_key: &str, region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20261126/{region}/appstream/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
    )
}

impl TestServer {
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A CBOR request for `operation` with the protocol's headers, to add more to.
    pub fn cbor_request(&self, operation: &str, body: &Value) -> reqwest::RequestBuilder {
        self.cbor_raw_request(operation, to_cbor(body))
    }

    /// `GET path`, whatever it answers.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    /// `GET /_state` (with a query such as `?account=...&region=...`), as JSON.
    pub async fn state(&self, query: &str) -> Value {
        let reply = self.get(&format!("/_state{query}")).await;
        assert_eq!(reply.status().as_u16(), 200, "GET /_state{query}");
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap()
    }

    /// POSTs `body` to a control endpoint such as `/_reset`: the status and JSON body.
    pub async fn control(&self, path: &str, body: &str) -> (u16, Value) {
        let reply = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let bytes = reply.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// AWS JSON 1.1, unsigned (default account, us-east-1).
    pub async fn json(&self, operation: &str, body: Value) -> Reply {
        self.json_as(operation, body, None).await
    }

    pub async fn json_as(&self, operation: &str, body: Value, who: Option<(&str, &str)>) -> Reply {
        self.json_raw(
            Some(&format!("PhotonAdminProxyService.{operation}")),
            serde_json::to_vec(&body).unwrap(),
            who,
        )
        .await
    }

    pub async fn json_raw(
        &self,
        target: Option<&str>,
        body: Vec<u8>,
        who: Option<(&str, &str)>,
    ) -> Reply {
        self.try_json_raw(target, body, who).await.unwrap()
    }

    fn json_request(
        &self,
        target: Option<&str>,
        body: Vec<u8>,
        who: Option<(&str, &str)>,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .post(format!("{}/", self.url))
            .header("content-type", "application/x-amz-json-1.1")
            .body(body);
        if let Some(target) = target {
            req = req.header("x-amz-target", target);
        }
        if let Some((key, region)) = who {
            req = req.header("authorization", authorization(key, region));
        }
        req
    }

    async fn try_json_raw(
        &self,
        target: Option<&str>,
        body: Vec<u8>,
        who: Option<(&str, &str)>,
    ) -> Result<Reply, reqwest::Error> {
        let req = self.json_request(target, body, who);
        read_reply(req, decode_json).await
    }

    /// Smithy RPC v2 CBOR with a raw body; the reply body is decoded into JSON form, with
    /// tag-1 timestamps shown as `{"$epoch": seconds}`.
    pub async fn cbor_raw(&self, path_operation: &str, body: Vec<u8>) -> Reply {
        self.try_cbor_raw(path_operation, body).await.unwrap()
    }

    async fn try_cbor_raw(
        &self,
        path_operation: &str,
        body: Vec<u8>,
    ) -> Result<Reply, reqwest::Error> {
        let req = self.cbor_raw_request(path_operation, body);
        read_reply(req, decode_cbor).await
    }

    fn cbor_raw_request(&self, path_operation: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.http
            .post(format!(
                "{}/service/PhotonAdminProxyService/operation/{path_operation}",
                self.url
            ))
            .header("content-type", "application/cbor")
            .header("accept", "application/cbor")
            .header("smithy-protocol", "rpc-v2-cbor")
            .body(body)
    }

    pub async fn cbor(&self, operation: &str, body: Value) -> Reply {
        self.cbor_raw(operation, to_cbor(&body)).await
    }

    pub fn sdk(&self) -> aws_sdk_appstream::Client {
        self.sdk_as("AKIDEXAMPLE", "us-east-1")
    }

    /// The official Rust SDK (Smithy RPC v2 CBOR) pointed at this server.
    pub fn sdk_as(&self, access_key: &str, region: &str) -> aws_sdk_appstream::Client {
        let config = aws_sdk_appstream::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
            .endpoint_url(&self.url)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_appstream::Client::from_conf(config)
    }
}

/// Sleeps a thousandth of what it is asked: the model's waiters poll every 30 s or more.
#[derive(Debug)]
struct FastSleep;

impl aws_sdk_appstream::config::AsyncSleep for FastSleep {
    fn sleep(&self, duration: std::time::Duration) -> aws_sdk_appstream::config::Sleep {
        aws_sdk_appstream::config::Sleep::new(tokio::time::sleep(duration / 1000))
    }
}

impl TestServer {
    /// `sdk()` whose waiters and retries sleep a thousandth of their delays.
    pub fn fast_sdk(&self) -> aws_sdk_appstream::Client {
        let config = self
            .sdk()
            .config()
            .to_builder()
            .sleep_impl(FastSleep)
            .build();
        aws_sdk_appstream::Client::from_conf(config)
    }
}

pub fn to_cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

/// CBOR reply -> JSON, with tag 1 rendered as `{"$epoch": seconds}` so tests can see
/// that timestamps were tagged.
pub fn cbor_to_json(cbor: ciborium::Value) -> Value {
    use ciborium::Value as C;
    match cbor {
        C::Null => Value::Null,
        C::Bool(b) => Value::Bool(b),
        C::Integer(i) => Value::from(i128::from(i) as i64),
        C::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        C::Text(s) => Value::String(s),
        C::Bytes(b) => Value::String(format!("bytes:{}", b.len())),
        C::Array(items) => Value::Array(items.into_iter().map(cbor_to_json).collect()),
        C::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.into_text().unwrap(), cbor_to_json(v)))
                .collect(),
        ),
        C::Tag(1, inner) => serde_json::json!({"$epoch": cbor_to_json(*inner)}),
        C::Tag(t, _) => Value::String(format!("tag:{t}")),
        _ => Value::Null,
    }
}

/// The two wire protocols, for tests that run the same scenario over both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Json,
    Cbor,
}

pub const WIRES: [Wire; 2] = [Wire::Json, Wire::Cbor];

/// A timestamp member as epoch seconds: a number in JSON, a tagged epoch in CBOR.
pub fn cbor_epoch(wire: Wire, v: &Value) -> f64 {
    match wire {
        Wire::Json => v.as_f64(),
        Wire::Cbor => v["$epoch"].as_f64(),
    }
    .unwrap_or_else(|| panic!("{wire:?}: not a timestamp: {v}"))
}

impl Reply {
    /// The error code without the CBOR protocol's `com.amazonaws.appstream#` prefix.
    pub fn code(&self) -> &str {
        let t = self.error_code();
        t.rsplit('#').next().unwrap_or(t)
    }
}

impl TestServer {
    pub async fn call(&self, wire: Wire, operation: &str, body: Value) -> Reply {
        self.try_call(wire, operation, body).await.unwrap()
    }

    /// Like `call`, but a failed connection is an error instead of a panic (for servers
    /// that are killed mid-test).
    pub async fn try_call(
        &self,
        wire: Wire,
        operation: &str,
        body: Value,
    ) -> Result<Reply, reqwest::Error> {
        match wire {
            Wire::Json => {
                let target = format!("PhotonAdminProxyService.{operation}");
                self.try_json_raw(Some(&target), serde_json::to_vec(&body).unwrap(), None)
                    .await
            }
            Wire::Cbor => self.try_cbor_raw(operation, to_cbor(&body)).await,
        }
    }

    /// Like `call`, with one header more or in place of the usual one (e.g. `host`).
    pub async fn call_with_header(
        &self,
        wire: Wire,
        operation: &str,
        body: &Value,
        (name, value): (&str, &str),
    ) -> Reply {
        let (req, decode): (_, fn(&[u8]) -> Value) = match wire {
            Wire::Json => {
                let target = format!("PhotonAdminProxyService.{operation}");
                let body = serde_json::to_vec(body).unwrap();
                (self.json_request(Some(&target), body, None), decode_json)
            }
            Wire::Cbor => (self.cbor_raw_request(operation, to_cbor(body)), decode_cbor),
        };
        read_reply(req.header(name, value), decode).await.unwrap()
    }

    /// Like `call`, and panics with the reply when it is not a success.
    pub async fn ok(&self, wire: Wire, operation: &str, body: Value) -> Value {
        let reply = self.call(wire, operation, body).await;
        assert_eq!(reply.status, 200, "{wire:?} {operation}: {reply:?}");
        reply.body
    }

    /// Asserts the request failed with `status` and `code`, and returns the message.
    pub async fn fails(
        &self,
        wire: Wire,
        operation: &str,
        body: Value,
        status: u16,
        code: &str,
    ) -> String {
        let reply = self.call(wire, operation, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{wire:?} {operation}: {reply:?}"
        );
        reply.message().to_string()
    }
}

/// The error code and HTTP status of an SDK call the server refused; panics when it
/// succeeded or failed without an answer.
pub fn sdk_refusal<T, E>(result: Result<T, aws_sdk_appstream::error::SdkError<E>>) -> (String, u16)
where
    E: aws_sdk_appstream::error::ProvideErrorMetadata + std::fmt::Debug,
{
    let Err(error) = result else {
        panic!("the call should have been refused");
    };
    let status = error
        .raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|| panic!("no answer: {error:?}"));
    use aws_sdk_appstream::error::ProvideErrorMetadata as _;
    let code = error
        .code()
        .unwrap_or_else(|| panic!("no error code: {error:?}"));
    (code.to_string(), status)
}

impl TestServer {
    /// A client for a server at `addr` that this process did not start.
    pub fn at(addr: &str) -> TestServer {
        TestServer {
            addr: addr.parse().unwrap(),
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
            _server: None,
        }
    }
}
