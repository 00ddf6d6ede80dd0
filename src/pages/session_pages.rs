//! The pages a streaming URL opens, rendered with maud (which escapes every value): a
//! fleet session as its user sees it, an image builder's and an app block builder's
//! page, and the pages for a session that ended or a URL refused. They load nothing
//! from the network and use no JavaScript: buttons are forms, and a page refreshes
//! itself with a meta tag.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::api::handlers::session_connections::SessionView;
use crate::generated::types::{
    Action, AppBlock, AppBlockBuilder, ImageBuilder, Permission, SessionConnectionState,
    ThemeStyling, UserSetting,
};
use crate::identity::streaming::Signed;
use crate::pages::ui::{state_class, BADGE_STYLE};

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#eef1f5;min-height:100vh;display:flex;flex-direction:column}
.bar{color:#fff;padding:10px 24px;display:flex;align-items:center;gap:16px}
.bar h1{font-size:18px;margin:0;flex:1}.bar .who{opacity:.85}
.tools{background:#fff;border-bottom:1px solid #d9dee5;padding:8px 24px;display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.chip{border-radius:12px;padding:2px 10px;font-size:12px;background:#e6e8eb}
.chip.on{background:#d7f5dd;color:#1b6b2c}.chip.off{background:#fbd9d7;color:#9b1c13;text-decoration:line-through}
main{padding:20px 24px;flex:1;max-width:1100px}
.apps{display:flex;flex-wrap:wrap;gap:14px;margin:8px 0 24px}
.app{width:110px;text-align:center;background:#fff;border:1px solid #d9dee5;border-radius:8px;padding:12px 6px}
.app.launched{outline:3px solid #f29d38}
.icon{width:48px;height:48px;border-radius:10px;margin:0 auto 6px;color:#fff;font:600 22px/48px system-ui;background:#546a86}
table{border-collapse:collapse;background:#fff;min-width:480px}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #e3e6ea}th{font-weight:600;width:170px}
form{display:inline}button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #8d99a8;background:#fff;cursor:pointer;margin-right:8px}
button.danger{border-color:#c0392b;color:#9b1c13}button.primary{background:#1a5fb4;border-color:#1a5fb4;color:#fff}
input[type=text]{font:inherit;padding:5px 8px;border:1px solid #8d99a8;border-radius:6px}
.actions{margin:20px 0}.notice{background:#fbd9d7;color:#9b1c13;padding:8px 12px;border-radius:6px;margin-bottom:12px}
.muted{color:#6b7480}footer{padding:10px 24px;background:#fff;border-top:1px solid #d9dee5}footer a{margin-right:16px}
";

/// How often a live session's page looks again, so that a session ended or changed
/// through the API shows on the page.
const SESSION_REFRESH_SECONDS: u32 = 5;
const TRANSITION_REFRESH_SECONDS: u32 = 2;

fn page(title: &str, refresh: Option<u32>, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="referrer" content="no-referrer";
                @if let Some(seconds) = refresh { meta http-equiv="refresh" content=(seconds); }
                title { (title) " · AppStream 2.0 (appstream-local)" }
                style { (PreEscaped(STYLE)) (PreEscaped(BADGE_STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// The header bar's colour: the theme's, else AppStream's dark blue.
fn bar_colour(styling: Option<ThemeStyling>) -> &'static str {
    match styling {
        Some(ThemeStyling::LightBlue) => "#2a8bc7",
        Some(ThemeStyling::Blue) => "#1a4f9c",
        Some(ThemeStyling::Pink) => "#c2366f",
        Some(ThemeStyling::Red) => "#b3261e",
        None => "#232f3e",
    }
}

fn button(action: &str, label: &str, class: &str, signed: &Signed) -> Markup {
    html! {
        form method="post" action={ "/streaming/" (action) } {
            (hidden(signed))
            button type="submit" class=(class) { (label) }
        }
    }
}

fn hidden(signed: &Signed) -> Markup {
    // The page's own grant, which its buttons send back.
    html! {
        input type="hidden" name="parameters" value=(signed.parameters);
        input type="hidden" name="signature" value=(signed.signature);
    }
}

fn time(epoch: Option<f64>) -> String {
    epoch
        .and_then(|t| chrono::DateTime::from_timestamp_millis((t * 1000.0) as i64))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// The user settings a person notices in a session, with how AWS names them; a setting
/// a stack leaves out is enabled.
const NOTICED_SETTINGS: &[(Action, &str)] = &[
    (Action::ClipboardCopyFromLocalDevice, "Paste into session"),
    (Action::ClipboardCopyToLocalDevice, "Copy out of session"),
    (Action::FileUpload, "File upload"),
    (Action::FileDownload, "File download"),
    (Action::PrintingToLocalDevice, "Printing"),
];

fn setting_chips(settings: &[UserSetting]) -> Markup {
    html! {
        @for (action, label) in NOTICED_SETTINGS {
            @let on = settings
                .iter()
                .find(|s| s.action == *action)
                .is_none_or(|s| s.permission == Permission::Enabled);
            span class={ "chip " (if on { "on" } else { "off" }) } title=(action.as_str()) { (label) }
        }
    }
}

/// A link target a page may follow: only web addresses, never `javascript:` and such.
fn is_web_link(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// A fleet session as its user sees it.
pub fn session(
    view: &SessionView,
    launched: Option<&str>,
    notice: Option<&str>,
    signed: &Signed,
) -> String {
    let session = &view.session;
    let stack_title = view
        .stack
        .as_ref()
        .and_then(|s| s.display_name.clone())
        .unwrap_or_else(|| session.stack_name.clone());
    let theme = view.theme.as_ref();
    let title = theme
        .and_then(|t| t.theme_title_text.clone())
        .unwrap_or_else(|| stack_title.clone());
    let connected = session.connection_state == Some(SessionConnectionState::Connected);
    let settings = view
        .stack
        .as_ref()
        .and_then(|s| s.user_settings.clone())
        .unwrap_or_default();
    let links = theme
        .and_then(|t| t.theme_footer_links.clone())
        .unwrap_or_default();
    let body = html! {
        div.bar style={ "background:" (bar_colour(theme.and_then(|t| t.theme_styling))) } {
            h1 { (title) }
            span.who { "Signed in as " strong { (session.user_id) } }
            span class={ "state " (if connected { "ok" } else { "idle" }) } id="connection" {
                (session.connection_state.map_or("-", |c| c.as_str()))
            }
        }
        div.tools { span.muted { "In this session:" } (setting_chips(&settings)) }
        main {
            @if let Some(notice) = notice { div.notice { (notice) } }
            h2 { "Applications" }
            div.apps {
                @if view.desktop {
                    div.app { div.icon { "D" } "Desktop" }
                }
                @for app in &view.applications {
                    @let name = app.name.clone().unwrap_or_default();
                    @let shown = app.display_name.clone().unwrap_or_else(|| name.clone());
                    div class={ "app" @if launched == Some(name.as_str()) { " launched" } } data-app=(name) {
                        div.icon { (shown.chars().next().unwrap_or('?').to_uppercase().to_string()) }
                        (shown)
                    }
                }
            }
            @if view.applications.is_empty() && !view.desktop {
                p.muted { "The fleet's image offers no applications in its catalogue." }
            }
            h2 { "Session" }
            table {
                tr { th { "Stack" } td { (session.stack_name) @if stack_title != session.stack_name { span.muted { " (" (stack_title) ")" } } } }
                tr { th { "Fleet" } td { (session.fleet_name) @if let Some(fleet) = &view.fleet { span.muted { " · " (fleet.instance_type) } } } }
                tr { th { "Session id" } td { code { (session.id) } } }
                tr { th { "State" } td { (state_badge(session.state.as_str(), false)) } }
                tr { th { "Started" } td { (time(session.start_time)) } }
                tr { th { "Ends at the latest" } td { (time(session.max_expiration_time)) } }
            }
            div.actions {
                @if connected {
                    (button("disconnect", "Disconnect", "", signed))
                } @else {
                    (button("reconnect", "Reconnect", "primary", signed))
                }
                (button("end", "End session", "danger", signed))
            }
        }
        @if !links.is_empty() {
            footer {
                @for link in &links {
                    @let label = link.display_name.clone().unwrap_or_default();
                    @match link.footer_link_url.as_deref().filter(|u| is_web_link(u)) {
                        Some(url) => a href=(url) rel="noopener noreferrer" { (label) },
                        None => span { (label) },
                    }
                }
            }
        }
    };
    page(&title, Some(SESSION_REFRESH_SECONDS), body)
}

/// A session that has ended (by its page's button, ExpireSession, or a reset).
pub fn ended(session_id: &str, why: &str) -> String {
    let body = html! {
        div.bar style={ "background:" (bar_colour(None)) } { h1 { "Session ended" } }
        main {
            p id="ended" { "Session " code { (session_id) } " has ended." }
            p id="why" { (why) }
            p.muted { "A new session needs a new streaming URL (CreateStreamingURL)." }
        }
    };
    page("Session ended", None, body)
}

fn state_badge(state: &str, moving: bool) -> Markup {
    html! { span class={ "state " (state_class(state, moving)) } id="state" { (state) } }
}

/// A builder's page: its title and state, an action's refusal if there was one, and
/// `content`; it looks again while the builder's state changes on its own.
fn builder_page(
    title: &str,
    name: &str,
    state: &str,
    moving: bool,
    notice: Option<&str>,
    content: Markup,
) -> String {
    let body = html! {
        div.bar style={ "background:" (bar_colour(None)) } {
            h1 { (title) " " (name) }
            (state_badge(state, moving))
        }
        main {
            @if let Some(notice) = notice { div.notice { (notice) } }
            (content)
        }
    };
    page(name, moving.then_some(TRANSITION_REFRESH_SECONDS), body)
}

/// An image builder's page; a RUNNING builder can make an image from here.
pub fn image_builder(
    builder: &ImageBuilder,
    moving: bool,
    notice: Option<&str>,
    signed: &Signed,
) -> String {
    let state = builder.state.map_or("-", |s| s.as_str());
    let content = html! {
            table {
                tr { th { "Name" } td { (builder.name) } }
                tr { th { "Instance type" } td { (builder.instance_type.clone().unwrap_or_default()) } }
                tr { th { "Platform" } td { (builder.platform.map_or("-", |p| p.as_str())) } }
                tr { th { "Base image" } td { (builder.image_arn.clone().unwrap_or_default()) } }
            }
            @if state == "RUNNING" {
                div.actions {
                    form method="post" action="/streaming/create-image" {
                        (hidden(signed))
                        input type="text" name="image_name" placeholder="New image name" required;
                        " "
                        button type="submit" class="primary" { "Create image" }
                    }
                }
            }
    };
    builder_page(
        "Image builder",
        &builder.name,
        state,
        moving,
        notice,
        content,
    )
}

/// An app block builder's page; "Finish packaging" makes its app block ACTIVE.
pub fn app_block_builder(
    builder: &AppBlockBuilder,
    block: Option<&AppBlock>,
    moving: bool,
    notice: Option<&str>,
    signed: &Signed,
) -> String {
    let state = builder.state.as_str();
    let block_state = block.and_then(|b| b.state).map_or("-", |s| s.as_str());
    let content = html! {
            table {
                tr { th { "Name" } td { (builder.name) } }
                tr { th { "Instance type" } td { (builder.instance_type) } }
                tr { th { "Platform" } td { (builder.platform.as_str()) } }
                tr { th { "App block" } td {
                    @match block {
                        Some(block) => { (block.name) " " span class={ "state " (state_class(block_state, false)) } id="block-state" { (block_state) } },
                        None => span.muted { "none associated" },
                    }
                } }
            }
            @if state == "RUNNING" && block.is_some() && block_state != "ACTIVE" {
                div.actions { (button("finish-packaging", "Finish packaging", "primary", signed)) }
            }
    };
    builder_page(
        "App block builder",
        &builder.name,
        state,
        moving,
        notice,
        content,
    )
}

/// A URL refused (expired, forged, unknown, or naming what no longer exists), with the
/// HTTP status it is answered with.
pub fn refused(status: u16, title: &str, message: &str) -> String {
    let body = html! {
        div.bar style={ "background:" (bar_colour(None)) } { h1 { (title) } span.who { "HTTP " (status) } }
        main {
            p id="refusal" { (message) }
            p.muted { "Streaming URLs come from CreateStreamingURL, CreateImageBuilderStreamingURL and CreateAppBlockBuilderStreamingURL." }
        }
    };
    page(title, None, body)
}
