//! AWS JSON 1.1: the body is the input structure; timestamps are epoch-second numbers.

use serde_json::{json, Value};

use crate::error::ApiError;

pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::serialization(format!("The request body is not valid JSON: {e}")))
}

pub fn encode(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

/// botocore reads the code from `__type`; the SDKs read `message` or the modeled `Message`.
pub fn encode_error(error: &ApiError) -> Vec<u8> {
    encode(&json!({
        "__type": error.code,
        "message": error.message,
        "Message": error.message,
    }))
}
