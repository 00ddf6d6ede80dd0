//! The HTTP front's routes: the API, the test controls and the pages, behind the
//! guards, with the state they share. `api` takes API requests; `controls` the
//! control endpoints.

use crate::api::dispatch::IMPLEMENTED;
use crate::config::Config;
use crate::controls::faults::Faults;
use crate::controls::history::History;
use crate::durability::Journal;
use crate::error::ApiError;
use crate::state::Store;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{middleware, Json, Router};
use serde_json::json;
use std::sync::Arc;

use super::api::api;
use super::controls::{
    add_faults, clear_faults, clear_requests, clock, dump_state, list_faults, remove_fault,
    requests, reset, reset_clock, run_control, set_clock, ui_overview, ui_resource,
};

#[derive(Clone)]
pub(super) struct AppState {
    pub(super) store: Arc<Store>,
    pub(super) faults: Arc<Faults>,
    pub(super) history: Arc<History>,
    /// With `--state-dir`, where every acknowledged write goes before it is answered.
    pub(super) journal: Option<Arc<Journal>>,
    pub(super) config: Arc<Config>,
    /// Turns for the big answers, so that only so many are written at once.
    pub(super) big_answers: crate::http::big_answer::Turns,
}

pub fn router(store: Arc<Store>, journal: Option<Arc<Journal>>, config: Config) -> Router {
    let faults = Faults::default();
    // A --faults file was checked when it was read, against the same limit.
    let _ = faults.add(config.faults.clone());
    let state = AppState {
        store,
        faults: Arc::new(faults),
        history: Arc::new(History::new(config.request_history)),
        journal,
        config: Arc::new(config),
        big_answers: Default::default(),
    };
    let mut controls = Router::new()
        .route(
            "/_faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/_faults/{id}", delete(remove_fault))
        .route("/_requests", get(requests).delete(clear_requests))
        .route("/_clock", get(clock).post(set_clock).delete(reset_clock))
        .route("/_ui", get(ui_overview))
        .route("/_ui/{account}/{region}/{family}/{name}", get(ui_resource))
        .route("/_state", get(dump_state))
        .route("/_reset", post(reset));
    for &(path, name, members) in CONTROLS {
        controls = controls.route(
            path,
            post(move |app: State<AppState>, body: Body| run_control(app, body, name, members)),
        );
    }
    let controls = controls.route_layer(middleware::from_fn_with_state(
        state.config.control_token.clone(),
        crate::http::control_token::require,
    ));
    // Streaming pages take the signed URL as their key instead of the control token.
    let portal = crate::pages::portal::routes(
        state.store.clone(),
        state.journal.clone(),
        state.config.clone(),
    );
    let own = crate::http::browser_guard::OwnHosts::new(
        state
            .config
            .allowed_hosts
            .iter()
            .map(String::as_str)
            .chain(state.config.streaming.base_host()),
    );
    // Health stays open: container health checks carry no token.
    Router::new()
        .route("/_health", get(health))
        .merge(controls)
        .fallback(api)
        .with_state(state)
        .merge(portal)
        .layer(middleware::from_fn_with_state(
            Arc::new(own),
            crate::http::browser_guard::guard,
        ))
}

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

/// A control endpoint's refusal: `{"error": message}` with the error's status.
pub(super) fn control_error(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"error": error.message}))).into_response()
}

async fn health() -> Json<serde_json::Value> {
    let operations: Vec<&str> = IMPLEMENTED.iter().map(|op| op.name()).collect();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "operations": operations,
    }))
}
