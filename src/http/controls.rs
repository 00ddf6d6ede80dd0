//! The test controls' endpoints: reset, state, faults, history, the clock, the state
//! browser and the controls that act on one resource.

use super::app_state::AppState;
use crate::api::dispatch::{dispatch_control, WriteLog};
use crate::body::read_body;
use crate::controls::clock::{Clock, MAX_OFFSET_SECONDS};
use crate::controls::faults::Faults;
use crate::controls::history::Filter;
use crate::durability::{not_durable, Journal, CLOCK_RECORD};
use crate::error::ApiError;
use crate::identity::auth::{is_account, is_region};
use crate::identity::tenant::Tenant;
use crate::model::validation::shorten;
use crate::request::context::RequestContext;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The state-changing test controls: their path, the name dispatch and the journal know
/// them by, and the string members their body takes besides "account" and "region".
pub(super) const CONTROLS: &[(&str, &str, &[&str])] = &[
    (
        "/_app-block-builders/finish-packaging",
        "_finish_packaging",
        &["name"],
    ),
    (
        "/_image-builders/create-image",
        "_create_image",
        &["name", "image_name"],
    ),
    // What a user's browser does to a session, for tests that do not open its URL.
    ("/_sessions/connect", "_connect_session", &["session_id"]),
    (
        "/_sessions/disconnect",
        "_disconnect_session",
        &["session_id"],
    ),
];

/// The controls with routes of their own, as `METHODS path`; with the `CONTROLS`, every
/// control there is.
const ROUTED: &[&str] = &[
    "GET /_health",
    "POST /_reset",
    "GET /_state",
    "GET|POST|DELETE /_faults",
    "DELETE /_faults/{id}",
    "GET|DELETE /_requests",
    "GET|POST|DELETE /_clock",
    "GET /_ui",
];

/// Every control, as `METHODS path`, for the answer to a path under `/_` that names
/// none and for the page at `/`.
pub(super) fn control_list() -> Vec<String> {
    let acting = CONTROLS.iter().map(|(path, _, _)| format!("POST {path}"));
    ROUTED.iter().map(|c| c.to_string()).chain(acting).collect()
}

/// A path under `/_` that names no control: 404 naming the controls there are (a page
/// under `/_ui/` gets the state browser's own page), whatever the method, so that a
/// mistyped control is never taken for an AppStream call.
pub(super) fn no_control(path: &str) -> Response {
    if path.starts_with("/_ui/") {
        return (StatusCode::NOT_FOUND, Html(crate::pages::ui::no_page(path))).into_response();
    }
    let message = format!(
        "There is no control at {path}. The controls are: {}.",
        control_list().join(", ")
    );
    control_error(&ApiError::new("NotFound", 404, message))
}

/// A control endpoint's refusal: `{"error": message}` with the error's status.
pub(super) fn control_error(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"error": error.message}))).into_response()
}

/// The account and Region a control request names: both or neither.
#[derive(Default)]
pub(super) struct Scope {
    account: Option<String>,
    region: Option<String>,
}

impl Scope {
    /// One tenant, or `None` for all of them; a half-given or malformed scope is refused.
    fn tenant(self) -> Result<Option<Tenant>, ApiError> {
        let bad = |message: String| ApiError::new("InvalidRequest", 400, message);
        match (self.account, self.region) {
            (None, None) => Ok(None),
            (Some(account), Some(region)) => {
                if !is_account(&account) {
                    return Err(bad(format!(
                        "account '{}' is not 12 digits",
                        shorten(&account)
                    )));
                }
                if !is_region(&region) {
                    return Err(bad(format!(
                        "region '{}' is not a Region name",
                        shorten(&region)
                    )));
                }
                Ok(Some(Tenant { account, region }))
            }
            _ => Err(bad("give both account and region, or neither".into())),
        }
    }

    /// An empty body or `{}` is every tenant; anything but an object with `account` and
    /// `region` strings is refused before anything changes.
    fn from_body(body: &[u8]) -> Result<Option<Tenant>, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let expected = "expected {\"account\": \"123456789012\", \"region\": \"us-east-1\"}, {} or an empty body";
        let (scope, _) = scoped_strings(body, &[], expected)?;
        scope.tenant()
    }

    /// `?account=...&region=...`; other parameters are refused.
    fn from_query(query: Option<&str>) -> Result<Option<Tenant>, ApiError> {
        let mut scope = Scope::default();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match key {
                "account" => &mut scope.account,
                "region" => &mut scope.region,
                other => {
                    return Err(ApiError::new(
                        "InvalidRequest",
                        400,
                        format!(
                            "unknown parameter '{}'; expected account and region",
                            shorten(other)
                        ),
                    ))
                }
            };
            *slot = Some(value.to_string());
        }
        scope.tenant()
    }
}

/// Every account's and Region's state (or one's, with `?account=&region=`), for
/// debugging, written a piece at a time as the client reads it.
pub(super) async fn dump_state(State(app): State<AppState>, uri: Uri) -> Response {
    let only = match Scope::from_query(uri.query()) {
        Ok(only) => only,
        Err(e) => return control_error(&e),
    };
    let store = app.store.clone();
    big_answer(&app, "application/json", move || {
        crate::pages::state_stream::StatePieces::new(&store, only)
    })
    .await
}

/// A big answer, once it has a turn: its pieces are made only then, and written one at
/// a time as the client reads them. Without a turn within a moment, 503.
pub(super) async fn big_answer<I>(
    app: &AppState,
    content_type: &'static str,
    pieces: impl FnOnce() -> I,
) -> Response
where
    I: Iterator<Item = Vec<u8>> + Send + 'static,
{
    let Some(turn) = app.big_answers.take().await else {
        let busy = ApiError::new(
            "TooManyRequests",
            503,
            format!(
                "{} large control answers are being written; try again when one is done.",
                crate::http::big_answer::MAX_IN_FLIGHT
            ),
        );
        let mut response = control_error(&busy);
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
        return response;
    };
    let mut response =
        Body::new(crate::http::big_answer::Pieces::new(pieces(), turn)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    response
}

/// A control's body: an object of the strings `members` requires, and optionally
/// `account` and `region` together (else the defaults of an unsigned request).
pub(super) fn control_input(body: &[u8], members: &[&str]) -> Result<(Tenant, Value), ApiError> {
    let shape = members
        .iter()
        .map(|m| format!("\"{m}\": \"...\""))
        .collect::<Vec<_>>()
        .join(", ");
    let expected = format!("expected {{{shape}}} with optional \"account\" and \"region\"");
    let (scope, input) = scoped_strings(body, members, &expected)?;
    if let Some(missing) = members.iter().find(|m| !input.contains_key(**m)) {
        return Err(bad_control_body(
            format!("'{missing}' is missing"),
            &expected,
        ));
    }
    Ok((scope.tenant()?.unwrap_or_default(), Value::Object(input)))
}

pub(super) fn bad_control_body(message: String, expected: &str) -> ApiError {
    ApiError::new("InvalidRequest", 400, format!("{message}; {expected}"))
}

/// A control's body: a JSON object of strings, `account` and `region` (the scope) and
/// those of `members`; anything else is refused with `expected` said.
pub(super) fn scoped_strings(
    body: &[u8],
    members: &[&str],
    expected: &str,
) -> Result<(Scope, serde_json::Map<String, Value>), ApiError> {
    let bad = |message: String| bad_control_body(message, expected);
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON ({e})")))?;
    let Value::Object(given) = value else {
        return Err(bad("the body is not a JSON object".into()));
    };
    let mut scope = Scope::default();
    let mut input = serde_json::Map::new();
    for (key, value) in given {
        let Value::String(text) = value else {
            return Err(bad(format!("'{}' is not a string", shorten(&key))));
        };
        match key.as_str() {
            "account" => scope.account = Some(text),
            "region" => scope.region = Some(text),
            k if members.contains(&k) => {
                input.insert(key, Value::String(text));
            }
            other => return Err(bad(format!("unknown member '{}'", shorten(other)))),
        }
    }
    Ok((scope, input))
}

/// Runs the test control `name` (finishing a builder's packaging, making an image in a
/// builder) on its account and Region; durable like any other write.
pub(super) async fn run_control(
    State(app): State<AppState>,
    body: Body,
    name: &'static str,
    members: &'static [&'static str],
) -> Response {
    let parsed = match read_body(body, &app.config).await {
        Ok(bytes) => control_input(&bytes, members),
        Err(e) => Err(e),
    };
    let (tenant, input) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return control_error(&e),
    };
    let ctx = RequestContext::arriving(&tenant, &app.config);
    let log = app.journal.as_deref().map(|j| j as &dyn WriteLog);
    let done = dispatch_control(name, &ctx, &app.store, input, log);
    let (output, seq) = match done {
        Ok(done) => done,
        Err(e) => return control_error(&e),
    };
    if let (Some(seq), Some(journal)) = (seq, &app.journal) {
        if let Err(e) = journal.wait_durable(seq).await {
            return control_error(&not_durable(&e));
        }
    }
    Json(output).into_response()
}

/// Returns the server to how it started (resources as seeded, the fault rules of
/// `--faults`, the clock's offset 0, no request history), or with `{"account": ..,
/// "region": ..}` returns one account's resources in one Region to their seeded state and
/// nothing else; durable like any other write.
pub(super) async fn reset(State(app): State<AppState>, body: Body) -> Response {
    let scope = match read_body(body, &app.config).await {
        Ok(bytes) => Scope::from_body(&bytes),
        Err(e) => Err(e),
    };
    let tenant = match scope {
        Ok(tenant) => tenant,
        Err(e) => return control_error(&e),
    };
    let record_tenant = tenant.clone().unwrap_or_default();
    let journal = app.journal.as_deref();
    if let Some(Err(e)) = journal.map(|j| j.check_writable()) {
        return control_error(&not_durable(&e));
    }
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
    if tenant.is_none() {
        // What one test left must not reach the next: its faults, its time, its calls.
        app.config.clock.set_offset(0.0);
        // A fresh start has the --faults file's rules.
        app.faults.replace(app.config.faults.clone());
        app.history.clear();
    }
    Json(json!({"reset": tenant.map_or("all".to_string(), |t| format!("{}/{}", t.account, t.region))}))
        .into_response()
}

/// `GET /_faults`: the rules in force, each with its id and how often it fired.
pub(super) async fn list_faults(State(app): State<AppState>) -> Json<Value> {
    Json(json!({ "rules": app.faults.list() }))
}

/// `POST /_faults` with `{"rules": [...]}`: adds them all, or none with a 400 naming the
/// bad field.
pub(super) async fn add_faults(State(app): State<AppState>, body: Body) -> Response {
    let bytes = match read_body(body, &app.config).await {
        Ok(bytes) => bytes,
        Err(e) => return control_error(&e),
    };
    match Faults::parse(&bytes).and_then(|rules| app.faults.add(rules)) {
        Ok(added) => Json(json!({ "rules": added })).into_response(),
        Err(why) => control_error(&ApiError::new("InvalidFaultRule", 400, why)),
    }
}

pub(super) async fn clear_faults(State(app): State<AppState>) -> Json<Value> {
    app.faults.clear();
    Json(json!({ "rules": [] }))
}

pub(super) async fn remove_fault(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    if app.faults.remove(&id) {
        Json(json!({ "removed": id })).into_response()
    } else {
        control_error(&ApiError::not_found(format!(
            "There is no fault rule {}.",
            shorten(&id)
        )))
    }
}

/// `GET /_requests`, filtered by `operation`, `account`, `region` and `status`.
pub(super) async fn requests(
    State(app): State<AppState>,
    query: Result<Query<Filter>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(filter)) => {
            let history = app.history.clone();
            big_answer(&app, "application/json", move || history.shown(&filter)).await
        }
        Err(e) => control_error(&ApiError::new("InvalidRequest", 400, e.body_text())),
    }
}

pub(super) async fn clear_requests(State(app): State<AppState>) -> Json<Value> {
    app.history.clear();
    Json(json!({ "requests": [] }))
}

/// `GET /_ui`: the state browser, written a piece at a time.
pub(super) async fn ui_overview(State(app): State<AppState>) -> Response {
    let (store, now) = (app.store.clone(), app.config.clock.now());
    big_answer(&app, "text/html; charset=utf-8", move || {
        crate::pages::ui::overview(store, now)
    })
    .await
}

/// One resource's page in the state browser; 404 when there is no such resource.
pub(super) async fn ui_resource(
    State(app): State<AppState>,
    Path((account, region, family, name)): Path<(String, String, String, String)>,
) -> Response {
    let tenant = Tenant { account, region };
    match crate::pages::ui::resource(&app.store, app.config.clock.now(), &tenant, &family, &name) {
        Some(page) => Html(page).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html(crate::pages::ui::not_found(&family, &name)),
        )
            .into_response(),
    }
}

/// `GET /_clock`: the emulator's time and how far it has been moved.
pub(super) async fn clock(State(app): State<AppState>) -> Json<Value> {
    let clock = &app.config.clock;
    Json(json!({"now": clock.now(), "offset_seconds": clock.offset_seconds()}))
}

/// `POST /_clock` with `{"advance_seconds": N}` moves time forward for every account,
/// and `{"offset_seconds": N}` sets how far ahead of the wall clock it runs (0 sets it
/// back); durable like a write, so a restart keeps the clock where it was.
pub(super) async fn set_clock(State(app): State<AppState>, body: Body) -> Response {
    let bytes = match read_body(body, &app.config).await {
        Ok(bytes) => bytes,
        Err(e) => return control_error(&e),
    };
    let given = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) if map.len() == 1 => map
            .into_iter()
            .next()
            .and_then(|(key, value)| Some((key, value.as_f64()?))),
        _ => None,
    };
    let max = MAX_OFFSET_SECONDS;
    let (key, seconds) = match given {
        Some((key, seconds))
            if (key == "advance_seconds" && (0.0..=MAX_ADVANCE_SECONDS).contains(&seconds))
                || (key == "offset_seconds" && (0.0..=max).contains(&seconds)) =>
        {
            (key, seconds)
        }
        _ => {
            return control_error(&ApiError::new(
                "InvalidRequest",
                400,
                format!(
                    "expected {{\"advance_seconds\": N}} with N from 0 to {MAX_ADVANCE_SECONDS}, \
                     or {{\"offset_seconds\": N}} with N from 0 to {max}"
                ),
            ))
        }
    };
    move_clock(app, |clock| match key.as_str() {
        "offset_seconds" => {
            clock.set_offset(seconds);
            Some(seconds)
        }
        _ => clock.advance(seconds),
    })
    .await
}

/// The most one `advance_seconds` moves the clock: ten years.
pub(super) const MAX_ADVANCE_SECONDS: f64 = 315_360_000.0;

/// `DELETE /_clock`: the wall clock's time again.
pub(super) async fn reset_clock(State(app): State<AppState>) -> Response {
    move_clock(app, |clock| {
        clock.set_offset(0.0);
        Some(0.0)
    })
    .await
}

/// Moves the clock with `change` (which answers the new offset, or `None` when it
/// would pass the bound and changed nothing), journals the offset and answers the
/// clock. Nothing moves when the journal cannot take the record.
pub(super) async fn move_clock(
    app: AppState,
    change: impl FnOnce(&Clock) -> Option<f64>,
) -> Response {
    if let Some(Err(e)) = app.journal.as_deref().map(Journal::check_writable) {
        return control_error(&not_durable(&e));
    }
    let Some(offset) = change(&app.config.clock) else {
        return control_error(&ApiError::new(
            "InvalidRequest",
            400,
            format!(
                "the clock may run at most {MAX_OFFSET_SECONDS} seconds (100 years) ahead of \
                 the wall clock; it is {} ahead now. POST {{\"offset_seconds\": 0}} or DELETE \
                 /_clock sets it back",
                app.config.clock.offset_seconds()
            ),
        ));
    };
    if let Some(journal) = &app.journal {
        let tenant = Tenant::default();
        let ctx = RequestContext::arriving(&tenant, &app.config);
        let input = json!({ "offset_seconds": offset });
        let appended = journal.append(&tenant, CLOCK_RECORD, &ctx, input);
        let durable = match appended {
            Ok(seq) => journal.wait_durable(seq).await,
            Err(e) => Err(e),
        };
        if let Err(e) = durable {
            return control_error(&not_durable(&e));
        }
    }
    clock(State(app)).await.into_response()
}
