//! The HTTP front's routes: the API, the test controls and the pages, behind the
//! guards, with the state they share. `api` takes API requests; `controls` the
//! control endpoints.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{middleware, Json, Router};
use serde_json::json;

use crate::api::dispatch::IMPLEMENTED;
use crate::config::Config;
use crate::controls::faults::Faults;
use crate::controls::history::History;
use crate::durability::Journal;
use crate::state::Store;

use super::api::api;
use super::app_state::AppState;
use super::controls::{
    add_faults, clear_faults, clear_requests, clock, control_list, dump_state, list_faults,
    no_control, remove_fault, requests, reset, reset_clock, run_control, set_clock, ui_overview,
    ui_resource, CONTROLS,
};

pub fn router(store: Arc<Store>, journal: Option<Arc<Journal>>, config: Config) -> Router {
    let faults = Faults::default();
    faults.replace(config.faults.clone());
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
        .fallback(unrouted)
        .with_state(state)
        .merge(portal)
        .layer(middleware::from_fn_with_state(
            Arc::new(own),
            crate::http::browser_guard::guard,
        ))
}

/// What no route takes: a mistyped control under `/_` is told so, `GET /` answers what
/// the server is (a page for a browser, JSON otherwise); the rest is the API's.
async fn unrouted(
    app: State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: Body,
) -> axum::response::Response {
    if uri.path().starts_with("/_") {
        return no_control(uri.path());
    }
    // A browser opening the endpoint; an API call is a POST.
    if uri.path() == "/"
        && method == axum::http::Method::GET
        && !headers.contains_key("x-amz-target")
    {
        let version = env!("CARGO_PKG_VERSION");
        let browser = headers
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        if !browser {
            return Json(json!({
                "service": "appstream-local",
                "version": version,
                "api": "POST / with X-Amz-Target: PhotonAdminProxyService.<Operation> (AWS JSON 1.1), or Smithy RPC v2 CBOR",
                "state_browser": "/_ui",
                "health": "/_health",
                "controls": control_list(),
            }))
            .into_response();
        }
        let page = crate::pages::ui::home(version, &control_list());
        return axum::response::Html(page).into_response();
    }
    api(app, method, uri, headers, body).await
}

/// 200 while the server can do its job; 503 once durable writes have stopped (a failed
/// disk), so a container's health check sees what clients would.
async fn health(State(app): State<AppState>) -> axum::response::Response {
    let operations: Vec<&str> = IMPLEMENTED.iter().map(|op| op.name()).collect();
    let stopped = app.journal.as_deref().and_then(Journal::stopped_reason);
    let mut answer = json!({
        "status": if stopped.is_some() { "failing" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "operations": operations,
    });
    if let Some(reason) = stopped {
        answer["durable_writes"] = json!(format!("stopped: {reason}"));
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(answer)).into_response();
    }
    Json(answer).into_response()
}
