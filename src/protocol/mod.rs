//! The two wire protocols real SDKs speak. Each turns a body into the model's data
//! (a JSON value tree) and back; neither knows what an operation means.

pub mod cbor;
pub mod cbor_writer;
pub mod json;
pub mod timestamp;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::model::schema::ShapeId;
use crate::model::validation::{list_item_path, member_path, shorten};

pub const SERVICE: &str = "PhotonAdminProxyService";

/// Where Smithy RPC v2 CBOR requests are addressed (`/service/<Service>/operation/<Op>`);
/// AWS JSON 1.1 requests go to `/` with an `X-Amz-Target`.
pub const CBOR_PATH_PREFIX: &str = "/service/";

/// The error body of both protocols. botocore reads the code from `__type` (JSON: the
/// short code; CBOR: the shape id); the SDKs read `message` or the modeled `Message`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "__type")]
    code: std::borrow::Cow<'a, str>,
    message: &'a str,
    #[serde(rename = "Message")]
    modeled_message: &'a str,
}

/// Where a value sits in the input, rendered as AWS prints member paths only on error.
pub(crate) enum InputPath<'a> {
    Root,
    Member(&'a InputPath<'a>, &'static str),
    Item(&'a InputPath<'a>, usize),
    Key(&'a InputPath<'a>, &'a str),
}

impl InputPath<'_> {
    pub(crate) fn render(&self) -> String {
        match self {
            InputPath::Root => String::new(),
            InputPath::Member(parent, name) => member_path(&parent.render(), name),
            InputPath::Item(parent, index) => list_item_path(&parent.render(), *index),
            InputPath::Key(parent, key) => format!("{}.{}", parent.render(), shorten(key)),
        }
    }

    pub(crate) fn at(&self) -> String {
        match self {
            InputPath::Root => "the request body".into(),
            other => format!("'{}'", other.render()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `X-Amz-Target` + `application/x-amz-json-1.1` (boto3, AWS CLI, JS v3).
    AwsJson11,
    /// Smithy RPC v2 CBOR (Rust, Go v2, Java 2.x, .NET, Terraform).
    RpcV2Cbor,
}

impl Protocol {
    pub fn label(self) -> &'static str {
        match self {
            Protocol::AwsJson11 => "awsJson1_1",
            Protocol::RpcV2Cbor => "rpcv2Cbor",
        }
    }

    /// Reads a body as the operation's input structure `shape`. An empty body stands
    /// for an empty input structure in both protocols.
    pub fn decode(self, body: &[u8], shape: ShapeId) -> Result<Value, ApiError> {
        if body.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        match self {
            Protocol::AwsJson11 => json::decode(body, shape),
            Protocol::RpcV2Cbor => cbor::decode(body, shape),
        }
    }

    /// The headers the protocol requires: RPC v2 CBOR requests carry
    /// `Smithy-Protocol: rpc-v2-cbor` and, with a body, `Content-Type: application/cbor`.
    pub fn check_headers(self, headers: &HeaderMap, has_body: bool) -> Result<(), ApiError> {
        if self != Protocol::RpcV2Cbor {
            return Ok(());
        }
        let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if value("smithy-protocol") != Some("rpc-v2-cbor") {
            return Err(ApiError::serialization(
                "Smithy RPC v2 CBOR requests must carry the header 'Smithy-Protocol: rpc-v2-cbor'.",
            ));
        }
        let media_type =
            value("content-type").map(|v| v.split(';').next().unwrap_or_default().trim());
        match media_type {
            Some(t) if t.eq_ignore_ascii_case("application/cbor") => Ok(()),
            None if !has_body => Ok(()),
            _ => Err(ApiError::new(
                "UnsupportedMediaTypeException",
                415,
                "Smithy RPC v2 CBOR request bodies must have 'Content-Type: application/cbor'.",
            )),
        }
    }

    /// Writes an operation's output straight from its typed value, in either protocol.
    pub fn encode_output<T: Serialize>(self, output: &T) -> Result<Vec<u8>, ApiError> {
        let failed = |e: &dyn std::fmt::Display| {
            ApiError::internal(format!("The response could not be written: {e}"))
        };
        match self {
            Protocol::AwsJson11 => serde_json::to_vec(output).map_err(|e| failed(&e)),
            Protocol::RpcV2Cbor => cbor_writer::to_vec(output).map_err(|e| failed(&e)),
        }
    }

    pub fn output_response(self, body: Vec<u8>, request_id: &str) -> Response {
        self.response(StatusCode::OK, body, request_id, None)
    }

    pub fn error_response(self, error: &ApiError, request_id: &str) -> Response {
        let code = match self {
            Protocol::AwsJson11 => error.code.as_ref().into(),
            Protocol::RpcV2Cbor => format!("com.amazonaws.appstream#{}", error.code).into(),
        };
        let body = ErrorBody {
            code,
            message: &error.message,
            modeled_message: &error.message,
        };
        // Three strings cannot fail to serialize.
        let body = self.encode_output(&body).unwrap_or_default();
        let status =
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.response(status, body, request_id, Some(error))
    }

    fn response(
        self,
        status: StatusCode,
        body: Vec<u8>,
        request_id: &str,
        error: Option<&ApiError>,
    ) -> Response {
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert("x-amzn-requestid", id);
        }
        match self {
            Protocol::AwsJson11 => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-amz-json-1.1"),
                );
                if let Some(Ok(code)) = error.map(|e| HeaderValue::from_str(&e.code)) {
                    headers.insert("x-amzn-errortype", code);
                }
            }
            Protocol::RpcV2Cbor => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/cbor"),
                );
                headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            }
        }
        response
    }
}
