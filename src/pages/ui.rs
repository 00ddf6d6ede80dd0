//! The state browser at `GET /_ui`: every account and Region with state, each family's
//! resources with their state (colour-coded), key fields, tags and associations, and a
//! page per resource with its whole description. Pages are rendered with maud, which
//! escapes every value; they load nothing from the network, and refresh themselves
//! only while a transition is under way or a session lives.

use std::collections::BTreeMap;
use std::sync::Arc;

use maud::{html, Markup, PreEscaped, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::identity::tenant::Tenant;
use crate::state::pieces::Key;
use crate::state::tags::Tags;
use crate::state::Store;

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

/// Where a page's pieces go: the page is rendered once around this mark and split there.
const PIECES: &str = "<!--pieces-->";

/// `GET /_ui`: every account and Region with state, and all they hold, as pieces of the
/// page: each family's resources a bounded number at a time, each piece read under its
/// region's shared lock and let go at once.
pub fn overview(store: Arc<Store>, now: f64) -> impl Iterator<Item = Vec<u8>> + Send {
    let tenants: Vec<Tenant> = store.tenants(None).into_iter().map(|(t, _)| t).collect();
    // Whether the page refreshes itself is known before any resource is shown.
    let (mut moving, mut sessions) = (false, false);
    for tenant in &tenants {
        store.read_settled(tenant, now, |state| {
            moving |= state.transition_under_way();
            sessions |= !state.sessions.is_empty();
        });
    }
    let refresh = match (moving, sessions) {
        (true, _) => Refresh::Transitions,
        (false, true) => Refresh::Sessions,
        _ => Refresh::Never,
    };
    let body = html! {
        h1 { "Emulated state" }
        @if tenants.is_empty() {
            p.muted { "No account has state yet. Create a stack, and it shows here." }
        }
        (PreEscaped(PIECES))
    };
    let whole = page("State", refresh, body);
    let (head, tail) = whole.split_once(PIECES).unwrap_or((&whole, ""));
    let (head, tail) = (head.as_bytes().to_vec(), tail.as_bytes().to_vec());
    let sections = tenants.into_iter().flat_map(move |tenant| {
        let heading = html! { h2 { "Account " (tenant.account) " · " (tenant.region) } };
        let tenant = Arc::new(tenant);
        let families = FAMILIES.iter().flat_map({
            let (store, tenant) = (store.clone(), tenant.clone());
            move |family| section(store.clone(), tenant.clone(), now, Section::Family(family))
        });
        let associations = ASSOCIATIONS.iter().flat_map({
            let (store, tenant) = (store.clone(), tenant.clone());
            move |pairs| section(store.clone(), tenant.clone(), now, Section::Pairs(pairs))
        });
        std::iter::once(heading.into_string().into_bytes())
            .chain(families)
            .chain(associations)
    });
    std::iter::once(head)
        .chain(sections)
        .chain(std::iter::once(tail))
}

/// A table of the overview: a family's resources or an association's pairs.
#[derive(Clone, Copy)]
enum Section {
    Family(&'static (&'static str, &'static str, Option<&'static str>)),
    Pairs(&'static (&'static str, &'static str, &'static str)),
}

impl Section {
    fn field(self) -> &'static str {
        match self {
            Section::Family((field, _, _)) | Section::Pairs((field, _, _)) => field,
        }
    }
}

/// Rows per piece: with its tags a row can take 20 KB.
const ROWS_PER_PIECE: usize = 32;

/// One piece of a section as the lock let it be read: its entries as JSON (sensitive
/// values as pseudonyms), the tags of the resources among them, and how many it has.
struct Read {
    entries: Value,
    tags: BTreeMap<String, Tags>,
    total: usize,
    next: Option<Key>,
}

fn read_piece(
    store: &Store,
    tenant: &Tenant,
    now: f64,
    field: &str,
    after: Option<&Key>,
) -> Option<Read> {
    store.read_settled(tenant, now, |state| {
        let piece = state.piece(field, after, ROWS_PER_PIECE)?;
        let mut entries: Value = serde_json::from_slice(&piece.json).ok()?;
        let arns = entries
            .as_object()
            .into_iter()
            .flat_map(|records| records.values());
        let tags = arns
            .filter_map(|record| record_arn(record))
            .filter_map(|arn| Some((arn.to_string(), state.tags.by_arn().get(arn)?.clone())))
            .collect();
        crate::model::redact::redact_member(field, &mut entries);
        Some(Read {
            entries,
            tags,
            total: piece.total,
            next: piece.next,
        })
    })
}

/// A stored record's ARN, wherever its family keeps its description.
fn record_arn(record: &Value) -> Option<&str> {
    record
        .get("Arn")
        .or_else(|| {
            FAMILIES
                .iter()
                .find_map(|(_, _, inner)| record.get((*inner)?)?.get("Arn"))
        })
        .and_then(Value::as_str)
}

/// A section's pieces: its heading and table opening, its rows a piece at a time, and
/// its closing; nothing for an empty one.
fn section(
    store: Arc<Store>,
    tenant: Arc<Tenant>,
    now: f64,
    section: Section,
) -> impl Iterator<Item = Vec<u8>> {
    let mut after: Option<Key> = None;
    let mut done = false;
    let mut opened = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let read = read_piece(&store, &tenant, now, section.field(), after.as_ref());
        let Some(read) = read.filter(|read| read.total > 0) else {
            done = true;
            // Emptied since the table was opened: close it.
            return Some(if opened {
                b"</table>".to_vec()
            } else {
                Vec::new()
            });
        };
        let mut out = String::new();
        if !std::mem::replace(&mut opened, true) {
            out.push_str(&opening(section, read.total).into_string());
        }
        out.push_str(&rows(&tenant, section, &read).into_string());
        after = read.next.clone();
        if after.is_none() {
            done = true;
            out.push_str("</table>");
        }
        Some(out.into_bytes())
    })
}

/// A section's heading and its table's header row (the table stays open for the rows).
fn opening(section: Section, total: usize) -> Markup {
    let heading = html! {
        @match section {
            Section::Family((_, title, _)) => h3 { (title) " " span.muted { "(" (total) ")" } },
            Section::Pairs((_, left, right)) => h3 { "Associations: " (left) " ↔ " (right) " " span.muted { "(" (total) ")" } },
        }
    };
    let header = html! {
        @match section {
            Section::Family(_) => tr { th { "Name" } th { "State" } th { "Details" } th { "Tags" } },
            Section::Pairs((_, left, right)) => tr { th { (left) } th { (right) } },
        }
    };
    html! { (heading) (PreEscaped("<table>")) (header) }
}

fn rows(tenant: &Tenant, section: Section, read: &Read) -> Markup {
    match section {
        Section::Family((field, _, inner)) => html! {
            @for (key, record) in read.entries.as_object().into_iter().flatten() {
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
                        @if let Some(tags) = record_arn(record).and_then(|arn| read.tags.get(arn)) {
                            @for (k, v) in tags { span.tag { (k) "=" (v) } }
                        }
                    }
                }
            }
        },
        Section::Pairs(_) => html! {
            @for pair in read.entries.as_array().into_iter().flatten() {
                tr { td { (plain(&pair[0])) } td { (plain(&pair[1])) } }
            }
        },
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
/// none when there is no such resource. A user is named by its pseudonym, as the
/// overview links it.
pub fn resource(
    store: &Store,
    now: f64,
    tenant: &Tenant,
    family: &str,
    key: &str,
) -> Option<String> {
    let (field, title, inner) = FAMILIES.iter().find(|(f, _, _)| *f == family)?;
    let record = store.read_settled(tenant, now, |state| {
        let stored_key = match *field {
            "users" => state
                .users
                .keys()
                .find(|name| crate::model::redact::pseudonym(name) == key)?
                .as_str(),
            _ => key,
        };
        let json = state.entry_json(field, stored_key)?;
        let record: Value = serde_json::from_slice(&json).ok()?;
        Some((stored_key.to_string(), record))
    });
    let (stored_key, record) = record?;
    // Redacted as a one-entry piece of its member, so that a user's ARN shows the same
    // pseudonym as its name.
    let mut one = Value::Object([(stored_key, record)].into_iter().collect());
    crate::model::redact::redact_member(field, &mut one);
    let record = one.as_object()?.values().next()?;
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

/// `GET /` in a browser: what this server is, how to point a client at it, and the
/// controls, with the state browser one click away.
pub fn home(version: &str, controls: &[String]) -> String {
    let body = html! {
        h1 { "appstream-local " span.muted { (version) } }
        p { "A local emulator of the Amazon AppStream 2.0 API. Point an SDK, the AWS CLI or Terraform at this address as its endpoint: "
            "operations are POST requests, in AWS JSON 1.1 (" code { "X-Amz-Target: PhotonAdminProxyService.<Operation>" } ") or Smithy RPC v2 CBOR." }
        p { a href="/_ui" { "Open the state browser" } " to see every account's resources." }
        h2 { "Test controls" }
        ul { @for control in controls { li { code { (control) } } } }
    };
    page("appstream-local", Refresh::Never, body)
}

/// The page for a path under `/_ui/` that names no page.
pub fn no_page(path: &str) -> String {
    let body = html! {
        h1 { "Not found" }
        p { "The state browser has no page at " code { (path) } "." }
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
