//! The state browser at `GET /_ui`: every account and Region with state, each family's
//! resources with their state (colour-coded), key fields, tags and associations, and a
//! page per resource with its whole description. Pages are rendered with maud, which
//! escapes every value; they load nothing from the network, and refresh themselves
//! only while a transition is under way or a session lives.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::state::Store;
use crate::tenant::Tenant;

/// The families shown, by their field in a Region's state, with a title and where a
/// record keeps its API description (records of resources with a lifecycle wrap it).
const FAMILIES: &[(&str, &str, Option<&str>)] = &[
    ("stacks", "Stacks", None),
    ("fleets", "Fleets", Some("fleet")),
    ("image_builders", "Image builders", Some("builder")),
    ("images", "Private images", Some("image")),
    ("users", "User-pool users", None),
    ("sessions", "Sessions", None),
    ("directory_configs", "Directory configs", None),
    ("themes", "Themes", None),
    ("app_blocks", "App blocks", None),
    ("applications", "Applications", None),
    ("app_block_builders", "App block builders", Some("builder")),
    ("entitlements", "Entitlements", None),
    ("export_tasks", "Image export tasks", Some("task")),
];

/// Pairs kept between families, with what each side is.
const ASSOCIATIONS: &[(&str, &str, &str)] = &[
    ("fleet_stacks", "stack", "fleet"),
    ("user_stacks", "stack", "user"),
    ("application_fleets", "fleet", "application"),
    ("app_block_builder_blocks", "app block builder", "app block"),
    ("entitled_applications", "entitlement", "application"),
];

/// Members shown beside a resource's name and state, when it has them.
const KEY_FIELDS: &[&str] = &[
    "DisplayName",
    "FleetType",
    "InstanceType",
    "Platform",
    "ImageName",
    "StackName",
    "FleetName",
    "UserId",
    "AuthenticationType",
    "PackagingType",
    "AppVisibility",
    "ConnectionState",
];

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#232f3e;color:#fff;padding:12px 24px}header a{color:#fff;text-decoration:none}
main{padding:16px 24px;max-width:1200px}h2{margin:28px 0 8px}h3{margin:18px 0 6px;font-size:15px}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:8px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#eef0f3;font-weight:600}.muted{color:#6b7480}
.tag{display:inline-block;background:#eef0f3;border-radius:4px;padding:0 6px;margin:1px;font-size:12px}
pre{background:#fff;border:1px solid #e3e6ea;padding:12px;overflow:auto}
";

/// The state badges, shared with the streaming pages: `state` and its colour class.
pub(crate) const BADGE_STYLE: &str = "
.state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#d7f5dd;color:#1b6b2c}.busy{background:#fff1c7;color:#7a5800}
.idle{background:#e6e8eb;color:#444}.bad{background:#fbd9d7;color:#9b1c13}
";

/// A state's colour: busy while a transition is under way, else by what it means.
pub(crate) fn state_class(state: &str, moving: bool) -> &'static str {
    match state {
        _ if moving => "busy",
        "RUNNING" | "ACTIVE" | "AVAILABLE" | "ENABLED" | "COMPLETED" | "INSTALLED" => "ok",
        s if s.contains("FAIL") || s == "TIMED_OUT" => "bad",
        _ => "idle",
    }
}

/// Whether a stored record has a transition under way: it will change on its own, so a
/// page showing it refreshes itself. (A session has none: it changes when its user
/// acts, which `Refresh::Sessions` covers.)
fn moving(record: &Value) -> bool {
    record.get("transition").is_some_and(|t| !t.is_null())
}

/// A path segment keeps RFC 3986's unreserved characters and encodes the rest.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(part: &str) -> String {
    utf8_percent_encode(part, SEGMENT).to_string()
}

/// How often a page looks again by itself.
#[derive(Clone, Copy, PartialEq)]
enum Refresh {
    Never,
    /// Every 2 s while a transition runs: it ends on its own, soon.
    Transitions,
    /// Every 5 s while a session lives: its user connects, disconnects or ends it from
    /// a browser at any moment.
    Sessions,
}

impl Refresh {
    fn of(moving: bool) -> Refresh {
        if moving {
            Refresh::Transitions
        } else {
            Refresh::Never
        }
    }
}

fn page(title: &str, refresh: Refresh, body: Markup) -> String {
    let seconds = match refresh {
        Refresh::Never => None,
        Refresh::Transitions => Some(2),
        Refresh::Sessions => Some(5),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                @if let Some(seconds) = seconds { meta http-equiv="refresh" content=(seconds); }
                title { (title) " · appstream-local" }
                style { (PreEscaped(STYLE)) (PreEscaped(BADGE_STYLE)) }
            }
            body {
                header { a href="/_ui" { strong { "appstream-local" } " · state browser" } }
                main { (body) }
            }
        }
    }
    .into_string()
}

/// A resource's API description, its state and its name, from its stored record.
fn describe<'a>(record: &'a Value, inner: Option<&str>) -> &'a Value {
    inner.and_then(|field| record.get(field)).unwrap_or(record)
}

fn state_of(description: &Value) -> Option<&str> {
    description
        .get("State")
        .or_else(|| description.get("Status"))
        .and_then(Value::as_str)
}

/// The region's state as JSON, settled now, or none when the tenant has none; values
/// the model marks sensitive, user names among them, show as pseudonyms.
fn tenant_state(store: &Store, tenant: &Tenant, now: f64) -> Value {
    let mut state = store.read_settled(tenant, now, |state| {
        serde_json::to_value(state).unwrap_or(Value::Null)
    });
    crate::redact::redact_stored(&mut state);
    state
}

/// `GET /_ui`: every account and Region with state, and all they hold.
pub fn overview(store: &Store, now: f64) -> String {
    let tenants: Vec<(Tenant, Value)> = store
        .tenants(None)
        .into_iter()
        .map(|(tenant, _)| {
            let state = tenant_state(store, &tenant, now);
            (tenant, state)
        })
        .collect();
    let body = html! {
        h1 { "Emulated state" }
        @if tenants.is_empty() {
            p.muted { "No account has state yet. Create a stack, and it shows here." }
        }
        @for (tenant, state) in &tenants {
            h2 { "Account " (tenant.account) " · " (tenant.region) }
            (families(tenant, state))
            (associations(state))
        }
    };
    let refresh = if tenants.iter().any(|(_, state)| any_moving(state)) {
        Refresh::Transitions
    } else if tenants.iter().any(|(_, state)| has_sessions(state)) {
        Refresh::Sessions
    } else {
        Refresh::Never
    };
    page("State", refresh, body)
}

/// Whether any resource of `state` has a transition under way.
fn any_moving(state: &Value) -> bool {
    FAMILIES.iter().any(|(field, _, _)| {
        state[*field]
            .as_object()
            .is_some_and(|records| records.values().any(moving))
    })
}

fn has_sessions(state: &Value) -> bool {
    state["sessions"].as_object().is_some_and(|s| !s.is_empty())
}

fn families(tenant: &Tenant, state: &Value) -> Markup {
    let tags = &state["tags"]["by_arn"];
    html! {
        @for (field, title, inner) in FAMILIES {
            @if let Some(records) = state[*field].as_object().filter(|r| !r.is_empty()) {
                h3 { (title) " " span.muted { "(" (records.len()) ")" } }
                table {
                    tr { th { "Name" } th { "State" } th { "Details" } th { "Tags" } }
                    @for (key, record) in records {
                        @let description = describe(record, *inner);
                        @let state = state_of(description);
                        tr {
                            td { a href={ "/_ui/" (encode(&tenant.account)) "/" (encode(&tenant.region)) "/" (field) "/" (encode(key)) } { (key) } }
                            td { @if let Some(state) = state { span class={ "state " (state_class(state, moving(record))) } { (state) } } }
                            td {
                                @for name in KEY_FIELDS {
                                    @if let Some(value) = description.get(*name).filter(|v| !v.is_null()) {
                                        span.muted { (name) ": " } (plain(value)) " "
                                    }
                                }
                            }
                            td {
                                @if let Some(arn) = description.get("Arn").and_then(Value::as_str) {
                                    @if let Some(tags) = tags[arn].as_object() {
                                        @for (k, v) in tags { span.tag { (k) "=" (plain(v)) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn associations(state: &Value) -> Markup {
    html! {
        @for (field, left, right) in ASSOCIATIONS {
            @if let Some(pairs) = state[*field].as_array().filter(|p| !p.is_empty()) {
                h3 { "Associations: " (left) " ↔ " (right) " " span.muted { "(" (pairs.len()) ")" } }
                table {
                    tr { th { (left) } th { (right) } }
                    @for pair in pairs {
                        tr { td { (plain(&pair[0])) } td { (plain(&pair[1])) } }
                    }
                }
            }
        }
    }
}

/// A value as text: strings without their quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `GET /_ui/<account>/<region>/<family>/<name>`: one resource's whole description, or
/// none when there is no such resource.
pub fn resource(
    store: &Store,
    now: f64,
    tenant: &Tenant,
    family: &str,
    key: &str,
) -> Option<String> {
    let (field, title, inner) = FAMILIES.iter().find(|(f, _, _)| *f == family)?;
    let state = tenant_state(store, tenant, now);
    let record = state.get(*field)?.get(key)?;
    let description = describe(record, *inner);
    let moving = moving(record);
    let shown = serde_json::to_string_pretty(description).unwrap_or_default();
    let body = html! {
        p { a href="/_ui" { "All state" } " › " (tenant.account) " · " (tenant.region) " › " (title) }
        h1 { (key) " "
            @if let Some(state) = state_of(description) { span class={ "state " (state_class(state, moving)) } { (state) } }
        }
        pre { (shown) }
    };
    Some(page(key, Refresh::of(moving), body))
}

/// The page for a resource that does not exist.
pub fn not_found(family: &str, name: &str) -> String {
    let body = html! {
        h1 { "Not found" }
        p { "There is no " (family) " named " code { (name) } " in this account and Region." }
        p { a href="/_ui" { "All state" } }
    };
    page("Not found", Refresh::Never, body)
}

/// The page for a browser without the control token: how to give it once.
pub fn needs_token(path: &str, parameter: &str, why: &str) -> String {
    let body = html! {
        h1 { "Control token needed" }
        p { (why) " Open this page once as " code { (path) "?" (parameter) "=TOKEN" }
            " (with the server's token); the browser then keeps it in a cookie for the state browser only." }
    };
    page("Control token needed", Refresh::Never, body)
}
