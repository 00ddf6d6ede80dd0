//! AWS JSON 1.1: the body is the input structure; timestamps are epoch-second numbers.

use serde_json::Value;

use crate::error::ApiError;

pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::serialization(format!("The request body is not valid JSON: {e}")))
}
