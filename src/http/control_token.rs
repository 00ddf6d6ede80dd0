//! The `--control-token` guard of the `/_` controls. Clients send the token as
//! `Authorization: Bearer TOKEN`. A browser cannot, so the state browser's pages also take
//! it once as `?control_token=TOKEN`, answered with a cookie (HttpOnly, SameSite=Strict,
//! path `/_ui`) and a redirect to the page without it. The cookie opens only those
//! read-only pages: no control that changes state accepts it, so no other site's form
//! can use it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use cookie::{Cookie, SameSite};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::config::ControlToken;

const COOKIE: &str = "appstream_local_control";
const QUERY: &str = "control_token";
const BROWSED: &str = "/_ui";

fn same(given: &str, token: &ControlToken) -> bool {
    bool::from(given.as_bytes().ct_eq(token.0.as_bytes()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_string())
}

fn query_token(request: &Request) -> Option<String> {
    let query = request.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == QUERY)
        .map(|(_, value)| value)
}

/// Lets a request through to the controls when the token allows it.
pub async fn require(
    State(token): State<Option<ControlToken>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &token else {
        return next.run(request).await;
    };
    if bearer(request.headers()).is_some_and(|given| same(given, token)) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    if request.method() != Method::GET || !path.starts_with(BROWSED) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "The /_ controls need the header Authorization: Bearer <the --control-token>."})),
        )
            .into_response();
    }
    match query_token(&request) {
        Some(given) if same(&given, token) => remember(&path, token),
        Some(_) => refuse_page(&path, "That control token is not this server's."),
        None if cookie(request.headers()).is_some_and(|given| same(&given, token)) => {
            next.run(request).await
        }
        None => refuse_page(&path, "This server runs with --control-token."),
    }
}

/// Sets the cookie and forwards to `path`, so the token leaves the address bar.
fn remember(path: &str, token: &ControlToken) -> Response {
    let cookie = Cookie::build((COOKIE, token.0.as_str()))
        .path(BROWSED)
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let (Ok(location), Ok(cookie)) = (
        HeaderValue::from_str(path),
        HeaderValue::from_str(&cookie.encoded().to_string()),
    ) {
        headers.insert(header::LOCATION, location);
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

fn refuse_page(path: &str, why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Html(crate::pages::ui::needs_token(path, QUERY, why)),
    )
        .into_response()
}
