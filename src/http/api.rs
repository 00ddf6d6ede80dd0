//! The API's way in: recognises the protocol and operation, reads the body within
//! limits, runs the dispatcher and logs one line per request.

use super::app_state::AppState;
use crate::api::dispatch::{dispatch, WriteLog};
use crate::body::read_body;
use crate::controls::history::{Entry, Input as HistoryInput, MAX_KEPT_BODY};
use crate::durability::not_durable;
use crate::error::ApiError;
use crate::generated::operations::Operation;
use crate::identity::auth::tenant;
use crate::identity::tenant::Tenant;
use crate::protocol::{Protocol, CBOR_PATH_PREFIX, SERVICE};
use crate::request::context::{RequestContext, TransitionFailure};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::time::Instant;

/// Which protocol a request speaks and the operation name it asks for.
pub(super) fn recognise(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> (Protocol, Result<String, ApiError>) {
    let path = uri.path();
    if let Some(rest) = path.strip_prefix(CBOR_PATH_PREFIX) {
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

pub(super) fn require_post(method: &Method) -> Result<(), ApiError> {
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

pub(super) async fn api(
    State(app): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    // The request id is only logged and echoed, never stored.
    #[allow(clippy::disallowed_methods)]
    let request_id = uuid::Uuid::new_v4().to_string();
    let tenant = tenant(&headers);
    let (protocol, name) = recognise(&method, &uri, &headers);
    let name_for_log = name.as_deref().unwrap_or("-").to_string();

    let mut resource: Option<String> = None;
    // With --verify-signatures, the tenant the verified signature speaks for.
    let mut verified: Option<Tenant> = None;
    let mut fault: Option<String> = None;
    let mut recorded: Option<HistoryInput> = None;
    let result: Result<Vec<u8>, ApiError> = async {
        // A verified signature names the tenant; otherwise the credential scope does.
        let verifying = app.config.credentials.is_some();
        let scoped = match &tenant {
            _ if verifying => None,
            Ok(tenant) => Some(tenant),
            Err(e) => return Err(e.clone()),
        };
        let name = name?;
        let op = Operation::from_name(&name).ok_or_else(|| {
            let status = if protocol == Protocol::RpcV2Cbor {
                404
            } else {
                400
            };
            ApiError::unknown_operation(status, format!("{name} is not an operation of {SERVICE}."))
        })?;
        let bytes = read_body(body, &app.config).await?;
        if let Some(keys) = &app.config.credentials {
            let now = app.config.clock.wall_time();
            verified = Some(crate::identity::signatures::verify(
                keys, &method, &uri, &headers, &bytes, now,
            )?);
        }
        let tenant = verified
            .as_ref()
            .or(scoped)
            .ok_or_else(|| ApiError::internal("No tenant for the request."))?;
        protocol.check_headers(&headers, !bytes.is_empty())?;
        let input = protocol.decode(&bytes, op.input())?;
        resource = crate::model::redact::resource_name(op.input(), &input);
        if tracing::enabled!(tracing::Level::DEBUG) {
            let shown = crate::model::redact::redacted(op.input(), &input);
            tracing::debug!(request_id = request_id.as_str(), operation = name.as_str(), input = %shown, "decoded input");
        }
        if app.history.is_on() && bytes.len() <= MAX_KEPT_BODY {
            recorded = Some(HistoryInput {
                operation: op,
                protocol,
                // A copy of the exact size: the received buffer may be much larger.
                body: Bytes::copy_from_slice(&bytes),
            });
        }
        let fired = app.faults.fire(op, tenant);
        fault = fired.as_ref().map(|f| f.rule.clone());
        let (latency, injected, failure) = match fired {
            Some(fired) => (fired.latency, fired.error, fired.transition_failure),
            None => (None, None, None),
        };
        // An injected error changes nothing; an injected latency delays the answer of an
        // operation that has run, holding no lock while it waits.
        let answer = match injected {
            Some(error) => Err(error),
            None => {
                let host = headers
                    .get(axum::http::header::HOST)
                    .and_then(|v| v.to_str().ok());
                let request = Request {
                    op,
                    tenant,
                    host,
                    input,
                    protocol,
                };
                run(&app, request, failure.as_ref()).await
            }
        };
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
        answer
    }
    .await;

    let (response, error) = match result {
        Ok(body) => (protocol.output_response(body, &request_id), None),
        Err(error) => (protocol.error_response(&error, &request_id), Some(error)),
    };
    let (account, region) = match (&verified, &tenant) {
        (Some(t), _) | (None, Ok(t)) => (t.account.as_str(), t.region.as_str()),
        _ => ("-", "-"),
    };
    let status = response.status().as_u16();
    // Absent fields (no resource, no error) are left out of the line, not printed empty.
    macro_rules! request_line {
        ($level:ident) => {
            // Client-supplied values go in as strings, which the text format quotes and
            // escapes, so no value can end the line's field early or forge another.
            tracing::$level!(
                operation = name_for_log.as_str(),
                protocol = protocol.label(),
                account = account,
                region = region,
                resource = resource.as_deref(),
                status,
                error = error.as_ref().map(|e| e.code.as_ref()),
                error_message = error.as_ref().map(|e| e.message.as_str()),
                latency_us = started.elapsed().as_micros() as u64,
                fault = fault.as_deref(),
                request_id = request_id.as_str(),
                "request"
            )
        };
    }
    // A client's mistake (and asking for an operation not built yet) is the client's
    // news; only a fault of the server is an error.
    match status {
        501 => request_line!(warn),
        500.. => request_line!(error),
        _ => request_line!(info),
    }
    app.history.record(Entry {
        time: app.config.clock.now(),
        request_id,
        operation: name_for_log,
        protocol: protocol.label(),
        account: account.to_string(),
        region: region.to_string(),
        status,
        error: error.map(|e| e.code),
        latency_us: started.elapsed().as_micros() as u64,
        fault,
        input: recorded,
    });
    response.into_response()
}

/// A decoded API request, ready to run.
pub(super) struct Request<'a> {
    op: Operation,
    tenant: &'a Tenant,
    /// The Host header, where the URLs the request hands out point.
    host: Option<&'a str>,
    input: Value,
    protocol: Protocol,
}

/// Runs a decoded request and, for a durable write, waits until it is on disk.
pub(super) async fn run(
    app: &AppState,
    request: Request<'_>,
    failure: Option<&TransitionFailure>,
) -> Result<Vec<u8>, ApiError> {
    let dispatched = {
        let ctx = RequestContext::arriving(request.tenant, &app.config)
            .failing(failure)
            .addressed(request.host);
        let log = app.journal.as_deref().map(|j| j as &dyn WriteLog);
        let Request {
            op,
            input,
            protocol,
            ..
        } = request;
        dispatch(op, &ctx, &app.store, input, protocol, log)?
    };
    if let (Some(seq), Some(journal)) = (dispatched.log_seq, &app.journal) {
        journal
            .wait_durable(seq)
            .await
            .map_err(|e| not_durable(&e))?;
    }
    Ok(dispatched.body)
}
