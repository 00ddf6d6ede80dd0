//! The HTTP side of streaming URLs. `GET /authenticate` is the URL an API call handed
//! out: it connects a fleet session and forwards to the page. `GET /streaming` is the
//! page, and `POST /streaming/{action}` runs its buttons. The signed grant in the query
//! (or the form) is the only key they take: a browser following a URL carries no
//! control token. What they change goes through dispatch and the journal like any write.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::dispatch::{dispatch, dispatch_control, WriteLog};
use crate::api::handlers::app_block_builders::packaged_block;
use crate::api::handlers::session_connections::session_view;
use crate::body::read_body;
use crate::config::Config;
use crate::durability::{not_durable, Journal};
use crate::error::ApiError;
use crate::generated::operations::Operation;
use crate::identity::streaming::{Grant, Refusal, Signed, Stage, Target};
use crate::identity::tenant::Tenant;
use crate::pages::session_pages;
use crate::protocol::Protocol;
use crate::request::context::RequestContext;
use crate::state::{RegionState, Store};

#[derive(Clone)]
struct Portal {
    store: Arc<Store>,
    journal: Option<Arc<Journal>>,
    config: Arc<Config>,
}

/// Why a session that no longer exists is gone.
const ENDED: &str = "It was ended (ExpireSession, or End session on its page), or reached \
                     its maximum duration, or its fleet stopped.";

/// Why a session whose page's grant has run out is gone: the grant lasts until the
/// session's MaxExpirationTime.
const REACHED_MAX_DURATION: &str = "It reached its maximum duration, the fleet's \
                                    MaxUserDurationInSeconds.";

/// How long a builder's page stays open once its URL was used: AppStream's default
/// longest session, 16 hours.
const BUILDER_PAGE_SECONDS: f64 = 57_600.0;

pub fn routes(store: Arc<Store>, journal: Option<Arc<Journal>>, config: Arc<Config>) -> Router {
    Router::new()
        .route("/authenticate", get(authenticate))
        .route("/streaming", get(show))
        .route("/streaming/{action}", post(act))
        .with_state(Portal {
            store,
            journal,
            config,
        })
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(flatten)]
    signed: Signed,
    /// The image's name, for "Create image".
    #[serde(default)]
    image_name: Option<String>,
}

/// An HTML answer that no cache keeps and no link leaks: its URL is a key.
fn html(status: StatusCode, page: String) -> Response {
    let mut response = (status, axum::response::Html(page)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        // Its URL reaches no other site; its own forms still carry their origin, which
        // the browser guard checks.
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn refused(status: StatusCode, title: &str, message: &str) -> Response {
    html(
        status,
        session_pages::refused(status.as_u16(), title, message),
    )
}

fn not_a_streaming_url() -> Response {
    refused(
        StatusCode::NOT_FOUND,
        "Unknown streaming URL",
        "This address is not a streaming URL of this emulator.",
    )
}

fn gone(what: &str) -> Response {
    refused(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("{what} no longer exists in this account and Region."),
    )
}

fn api_refusal(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    refused(status, "Refused", &error.message)
}

/// The page that refuses a URL: 404 when it is not one, 403 when it was forged or
/// expired.
fn refusal_page(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Malformed => not_a_streaming_url(),
        Refusal::Forged => refused(
            StatusCode::FORBIDDEN,
            "Invalid streaming URL",
            "This streaming URL's signature does not match: it was changed, or made by \
             another run of the emulator. Ask for a new one.",
        ),
        Refusal::Expired => refused(
            StatusCode::FORBIDDEN,
            "Expired streaming URL",
            "This streaming URL has expired (its Validity has passed on the emulator's \
             clock). Ask for a new one.",
        ),
    }
}

fn see_other(location: String) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

impl Portal {
    /// The grant of a URL at `stage`; one of the other stage does not open here.
    fn open(&self, signed: &Signed, stage: Stage) -> Result<Grant, Refusal> {
        let now = self.config.clock.now();
        match self.config.streaming.open(signed, now)? {
            grant if grant.stage == stage => Ok(grant),
            _ => Err(Refusal::Malformed),
        }
    }

    /// The page grant of a URL whose time has passed (its signature still checked): a
    /// session page's lasts until the session's MaxExpirationTime.
    fn open_expired(&self, signed: &Signed) -> Option<Grant> {
        let grant = self.config.streaming.open(signed, f64::NEG_INFINITY).ok()?;
        (grant.stage == Stage::Page).then_some(grant)
    }

    fn log(&self) -> Option<&dyn WriteLog> {
        self.journal.as_deref().map(|j| j as &dyn WriteLog)
    }

    async fn durable(&self, seq: Option<u64>) -> Result<(), ApiError> {
        match (seq, &self.journal) {
            (Some(seq), Some(journal)) => {
                journal.wait_durable(seq).await.map_err(|e| not_durable(&e))
            }
            _ => Ok(()),
        }
    }

    /// Runs the test control `name` on `tenant`, durably.
    async fn control(&self, tenant: &Tenant, name: &str, input: Value) -> Result<Value, ApiError> {
        let (output, seq) = {
            let ctx = RequestContext::arriving(tenant, &self.config);
            dispatch_control(name, &ctx, &self.store, input, self.log())?
        };
        self.durable(seq).await?;
        Ok(output)
    }

    /// Ends a session exactly as ExpireSession does: it is that operation.
    async fn expire(&self, tenant: &Tenant, session_id: &str) -> Result<(), ApiError> {
        let seq = {
            let ctx = RequestContext::arriving(tenant, &self.config);
            let input = json!({ "SessionId": session_id });
            let op = Operation::ExpireSession;
            dispatch(
                op,
                &ctx,
                &self.store,
                input,
                Protocol::AwsJson11,
                self.log(),
            )?
            .log_seq
        };
        self.durable(seq).await
    }

    /// The builder a grant names, when it is a newer one of the same name.
    fn replaced(&self, grant: &Grant) -> Option<String> {
        let now = self.config.clock.now();
        self.store
            .read_settled(&grant.tenant(), now, |state| replaced_in(state, grant))
    }

    /// The page `grant` opens, with `notice` (an action's refusal) and its status.
    fn page(&self, grant: &Grant, signed: &Signed, notice: Option<&ApiError>) -> Response {
        let tenant = grant.tenant();
        let now = self.config.clock.now();
        let status = notice
            .and_then(|e| StatusCode::from_u16(e.status).ok())
            .unwrap_or(StatusCode::OK);
        let message = notice.map(|e| e.message.as_str());
        // A page, or what it showed and no longer exists.
        let rendered = self.store.read_settled(&tenant, now, |state| {
            if let Some(what) = replaced_in(state, grant) {
                return Err(what);
            }
            match &grant.target {
                Target::Session(id) => Ok(match session_view(state, id) {
                    Some(view) => {
                        let launched = grant.application.as_deref();
                        session_pages::session(&view, launched, message, signed)
                    }
                    None => session_pages::ended(id, ENDED),
                }),
                Target::ImageBuilder(name) => match state.image_builders.get(name) {
                    Some(record) => {
                        let moving = record.transition.is_some();
                        Ok(session_pages::image_builder(
                            &record.builder,
                            moving,
                            message,
                            signed,
                        ))
                    }
                    None => Err(format!("Image builder {name}")),
                },
                Target::AppBlockBuilder(name) => match state.app_block_builders.get(name) {
                    Some(record) => {
                        let moving = record.transition.is_some();
                        let block = packaged_block(state, name);
                        let builder = &record.builder;
                        Ok(session_pages::app_block_builder(
                            builder, block, moving, message, signed,
                        ))
                    }
                    None => Err(format!("App block builder {name}")),
                },
            }
        });
        match rendered {
            Ok(page) => html(status, page),
            Err(what) => gone(&what),
        }
    }
}

/// The builder a grant names, when `state` holds a newer one of that name (deleted and
/// created again): what it is, for the page that says the granted one is gone. A grant
/// opens only the builder instance it was made for; a session's id is never reused.
fn replaced_in(state: &RegionState, grant: &Grant) -> Option<String> {
    let (created, what) = match &grant.target {
        Target::Session(_) => return None,
        Target::ImageBuilder(name) => (
            state.image_builders.get(name)?.builder.created_time,
            format!("Image builder {name}"),
        ),
        Target::AppBlockBuilder(name) => (
            state.app_block_builders.get(name)?.builder.created_time,
            format!("App block builder {name}"),
        ),
    };
    (!grant.opens(created)).then_some(what)
}

/// The URL an API call handed out: a fleet session connects; every kind forwards to its
/// page, whose grant lasts as long as the session may.
async fn authenticate(
    State(portal): State<Portal>,
    query: Result<Query<Signed>, QueryRejection>,
) -> Response {
    let Ok(Query(signed)) = query else {
        return not_a_streaming_url();
    };
    let grant = match portal.open(&signed, Stage::Entry) {
        Ok(grant) => grant,
        Err(refusal) => return refusal_page(refusal),
    };
    if let Some(what) = portal.replaced(&grant) {
        return gone(&what);
    }
    let tenant = grant.tenant();
    let now = portal.config.clock.now();
    let mut until = now + BUILDER_PAGE_SECONDS;
    if let Target::Session(id) = &grant.target {
        let input = json!({ "session_id": id });
        match portal.control(&tenant, "_connect_session", input).await {
            Ok(session) => {
                until = session["MaxExpirationTime"].as_f64().unwrap_or(until);
            }
            Err(e) if e.status == 404 => {
                return html(StatusCode::OK, session_pages::ended(id, ENDED));
            }
            Err(e) => return api_refusal(&e),
        }
    }
    let page = Grant {
        stage: Stage::Page,
        expires: until,
        ..grant
    };
    see_other(format!(
        "/streaming?{}",
        portal.config.streaming.sign(&page).query()
    ))
}

/// The page a used streaming URL leads to.
async fn show(
    State(portal): State<Portal>,
    query: Result<Query<Signed>, QueryRejection>,
) -> Response {
    let Ok(Query(signed)) = query else {
        return not_a_streaming_url();
    };
    match portal.open(&signed, Stage::Page) {
        Ok(grant) => portal.page(&grant, &signed, None),
        Err(Refusal::Expired) => match portal.open_expired(&signed) {
            Some(Grant {
                target: Target::Session(id),
                ..
            }) => html(
                StatusCode::OK,
                session_pages::ended(&id, REACHED_MAX_DURATION),
            ),
            _ => refusal_page(Refusal::Expired),
        },
        Err(refusal) => refusal_page(refusal),
    }
}

/// A page's button: then back to the page, or the page with why it was refused.
async fn act(State(portal): State<Portal>, Path(action): Path<String>, body: Body) -> Response {
    let bytes = match read_body(body, &portal.config).await {
        Ok(bytes) => bytes,
        Err(e) => return api_refusal(&e),
    };
    let Ok(form) = serde_urlencoded::from_bytes::<ActionForm>(&bytes) else {
        return not_a_streaming_url();
    };
    let grant = match portal.open(&form.signed, Stage::Page) {
        Ok(grant) => grant,
        Err(refusal) => return refusal_page(refusal),
    };
    let tenant = grant.tenant();
    if let Some(what) = portal.replaced(&grant) {
        return gone(&what);
    }
    let done = match (action.as_str(), &grant.target) {
        ("disconnect", Target::Session(id)) => portal
            .control(&tenant, "_disconnect_session", json!({ "session_id": id }))
            .await
            .map(drop),
        ("reconnect", Target::Session(id)) => portal
            .control(&tenant, "_connect_session", json!({ "session_id": id }))
            .await
            .map(drop),
        ("end", Target::Session(id)) => portal.expire(&tenant, id).await,
        ("finish-packaging", Target::AppBlockBuilder(name)) => portal
            .control(&tenant, "_finish_packaging", json!({ "name": name }))
            .await
            .map(drop),
        ("create-image", Target::ImageBuilder(name)) => {
            let image_name = form.image_name.clone().unwrap_or_default();
            let input = json!({ "name": name, "image_name": image_name });
            portal
                .control(&tenant, "_create_image", input)
                .await
                .map(drop)
        }
        _ => return not_a_streaming_url(),
    };
    match done {
        Ok(()) => see_other(format!("/streaming?{}", form.signed.query())),
        Err(e) => portal.page(&grant, &form.signed, Some(&e)),
    }
}
