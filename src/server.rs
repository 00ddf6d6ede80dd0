//! HTTP front: recognises the protocol and operation, reads the body within limits,
//! runs the dispatcher and logs one line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::auth::{tenant, Tenant};
use crate::config::Config;
use crate::dispatch::{dispatch, not_durable, RequestContext, IMPLEMENTED};
use crate::error::ApiError;
use crate::generated::operations::Operation;
use crate::protocol::{Protocol, SERVICE};
use crate::state::Store;

#[derive(Clone)]
struct AppState {
    store: Arc<Store>,
    config: Arc<Config>,
}

pub fn router(store: Arc<Store>, config: Config) -> Router {
    let state = AppState {
        store,
        config: Arc::new(config),
    };
    Router::new()
        .route("/_health", get(health))
        .route("/_state", get(dump_state))
        .route("/_reset", post(reset))
        .fallback(api)
        .with_state(state)
}

/// Every account's and region's state, for debugging.
async fn dump_state(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"regions": app.store.export()}))
}

/// Forgets all state, or with `{"account": .., "region": ..}` one account's in one
/// region; durable like any other write.
async fn reset(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    let scope: serde_json::Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": e.to_string()})),
                )
                    .into_response()
            }
        }
    };
    let field = |k: &str| scope.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let tenant = match (field("account"), field("region")) {
        (Some(account), Some(region)) => Some(Tenant { account, region }),
        (None, None) => None,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "give both account and region, or neither"})),
            )
                .into_response()
        }
    };
    let record_tenant = tenant.clone().unwrap_or_default();
    let journal = app.store.journal.get();
    let recorded = app.store.reset(tenant.as_ref(), || match journal {
        Some(journal) => {
            let ctx = RequestContext::arriving(&record_tenant, &app.config);
            journal
                .append(
                    &record_tenant,
                    "_reset",
                    &ctx,
                    json!({"all": tenant.is_none()}),
                )
                .map(Some)
        }
        None => Ok(None),
    });
    let recorded = match (recorded, journal) {
        (Ok(Some(seq)), Some(journal)) => journal.wait_durable(seq).await,
        (other, _) => other.map(|_| ()),
    };
    if let Err(e) = recorded {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response();
    }
    Json(json!({"reset": tenant.map_or("all".to_string(), |t| format!("{}/{}", t.account, t.region))}))
        .into_response()
}

async fn health() -> Json<serde_json::Value> {
    let operations: Vec<&str> = IMPLEMENTED.iter().map(|op| op.name()).collect();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "operations": operations,
    }))
}

/// Which protocol a request speaks and the operation name it asks for.
fn recognise(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> (Protocol, Result<String, ApiError>) {
    let path = uri.path();
    if let Some(rest) = path.strip_prefix("/service/") {
        let protocol = Protocol::RpcV2Cbor;
        let name = match rest.split('/').collect::<Vec<_>>().as_slice() {
            [service, "operation", op] if *service == SERVICE => Ok(op.to_string()),
            _ => Err(ApiError::unknown_operation(
                404,
                format!(
                    "No operation at {path}; expected /service/{SERVICE}/operation/<Operation>."
                ),
            )),
        };
        return (protocol, require_post(method).and(name));
    }
    let protocol = Protocol::AwsJson11;
    let name = match headers.get("x-amz-target").map(|v| v.to_str()) {
        Some(Ok(target)) => match target.split_once('.') {
            Some((service, op)) if service == SERVICE => Ok(op.to_string()),
            _ => Err(ApiError::unknown_operation(
                400,
                format!("The X-Amz-Target '{target}' does not name an operation of {SERVICE}."),
            )),
        },
        Some(Err(_)) => Err(ApiError::unknown_operation(
            400,
            "The X-Amz-Target header is not valid text.",
        )),
        None if path == "/" => Err(ApiError::unknown_operation(
            400,
            "Missing X-Amz-Target header: expected PhotonAdminProxyService.<Operation>.",
        )),
        None => Err(ApiError::unknown_operation(
            404,
            format!("Nothing is served at {path}."),
        )),
    };
    (protocol, require_post(method).and(name))
}

fn require_post(method: &Method) -> Result<(), ApiError> {
    if method == Method::POST {
        Ok(())
    } else {
        Err(ApiError::new(
            "MethodNotAllowedException",
            405,
            format!("{method} is not allowed; AppStream operations are POST requests."),
        ))
    }
}

async fn api(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let tenant = tenant(&headers);
    let (protocol, name) = recognise(&method, &uri, &headers);
    let name_for_log = name.as_deref().unwrap_or("-").to_string();

    let result: Result<Vec<u8>, ApiError> = async {
        let name = name?;
        let op = Operation::from_name(&name).ok_or_else(|| {
            let status = if protocol == Protocol::RpcV2Cbor {
                404
            } else {
                400
            };
            ApiError::unknown_operation(status, format!("{name} is not an operation of {SERVICE}."))
        })?;
        let limit = app.config.max_body_bytes;
        let deadline = app.config.body_timeout;
        let read = axum::body::to_bytes(body, limit);
        let read = if deadline.is_zero() {
            // Zero means no deadline.
            read.await
        } else {
            tokio::time::timeout(deadline, read)
                .await
                .map_err(|_| ApiError::body_timeout(deadline))?
        };
        let bytes = read.map_err(|_| ApiError::too_large(limit))?;
        let input = protocol.decode(&bytes)?;
        let ctx = RequestContext::arriving(&tenant, &app.config);
        let dispatched = dispatch(op, &ctx, &app.store, input, protocol)?;
        if let (Some(seq), Some(journal)) = (dispatched.journal_seq, app.store.journal.get()) {
            journal
                .wait_durable(seq)
                .await
                .map_err(|e| not_durable(&e))?;
        }
        Ok(dispatched.body)
    }
    .await;

    let (response, error_code) = match result {
        Ok(body) => (protocol.output_response(body, &request_id), ""),
        Err(error) => {
            if error.status >= 500 {
                tracing::error!(request_id = %request_id, "{}", error.message);
            }
            (protocol.error_response(&error, &request_id), error.code)
        }
    };
    tracing::info!(
        operation = %name_for_log,
        protocol = protocol.label(),
        account = %tenant.account,
        region = %tenant.region,
        status = response.status().as_u16(),
        error = error_code,
        latency_us = started.elapsed().as_micros() as u64,
        request_id = %request_id,
        "request"
    );
    response.into_response()
}
