//! Request bodies, read whole within `--max-body-bytes` and the body deadline, so that
//! no route waits on a slow or endless body.

use axum::body::{Body, Bytes};

use crate::config::Config;
use crate::error::ApiError;

/// Reads a request's whole body within `--max-body-bytes` and the body deadline; every
/// route that takes a body reads it through here.
pub async fn read_body(body: Body, config: &Config) -> Result<Bytes, ApiError> {
    let limit = config.max_body_bytes;
    let deadline = config.body_timeout;
    let read = axum::body::to_bytes(body, limit);
    let read = if deadline.is_zero() {
        // Zero means no deadline.
        read.await
    } else {
        tokio::time::timeout(deadline, read)
            .await
            .map_err(|_| ApiError::body_timeout(deadline))?
    };
    read.map_err(|_| ApiError::too_large(limit))
}
