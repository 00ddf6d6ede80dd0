//! What a streaming user does to a session, which the API only observes: opening the
//! streaming URL connects it (PENDING becomes ACTIVE, with its StartTime), the session
//! page's buttons disconnect and reconnect it. Each is a test control, run and recorded
//! like a write. Also what the user is offered once connected: the stack's
//! applications, settings and theme.

use serde_json::Value;

use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    Application, Fleet, FleetType, Session, SessionConnectionState, SessionState, Stack,
    StreamView, Theme, ThemeState,
};
use crate::request::context::RequestContext;
use crate::state::RegionState;

/// A fleet's default MaxUserDurationInSeconds (the model's documentation).
const DEFAULT_MAX_USER_DURATION: i32 = 57_600;

/// The `session_id` a control's input names.
fn session_id(input: &Value) -> &str {
    input["session_id"].as_str().unwrap_or_default()
}

fn session_mut<'a>(state: &'a mut RegionState, id: &str) -> Result<&'a mut Session, ApiError> {
    state.sessions.get_mut(id).ok_or_else(|| {
        ApiError::not_found(format!(
            "Session {id} does not exist: it has ended, or never began."
        ))
    })
}

/// The session as the controls answer it, as DescribeSessions shows it.
fn described(session: &Session) -> Value {
    serde_json::to_value(session).unwrap_or(Value::Null)
}

/// `{"session_id": ..}`: the user opened the streaming URL. A pending session starts now
/// and may last its fleet's MaxUserDurationInSeconds; a disconnected one connects again.
pub fn connect_session(
    ctx: &RequestContext,
    state: &mut RegionState,
    input: &Value,
) -> Result<Value, ApiError> {
    let id = session_id(input);
    let max_duration = state
        .sessions
        .get(id)
        .and_then(|s| state.fleets.get(&s.fleet_name))
        .and_then(|r| r.fleet.max_user_duration_in_seconds)
        .unwrap_or(DEFAULT_MAX_USER_DURATION);
    let session = session_mut(state, id)?;
    if session.state == SessionState::Pending {
        session.state = SessionState::Active;
        session.start_time = Some(ctx.now);
        // Settling ends it then: every write makes the next read settle, which notes
        // the earliest session end as a time due.
        session.max_expiration_time = Some(ctx.now + f64::from(max_duration));
    }
    session.connection_state = Some(SessionConnectionState::Connected);
    Ok(described(session))
}

/// `{"session_id": ..}`: the user closed the session's window; the session goes on, as
/// AppStream keeps it for a while for the user to come back.
pub fn disconnect_session(
    _ctx: &RequestContext,
    state: &mut RegionState,
    input: &Value,
) -> Result<Value, ApiError> {
    let session = session_mut(state, session_id(input))?;
    if session.state == SessionState::Pending {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!(
                "Session {} has not connected yet: open its streaming URL first.",
                session.id
            ),
        ));
    }
    session.connection_state = Some(SessionConnectionState::NotConnected);
    Ok(described(session))
}

/// What a connected user is offered.
pub struct SessionView {
    pub session: Session,
    pub stack: Option<Stack>,
    pub fleet: Option<Fleet>,
    /// The enabled applications of an Elastic fleet, or the catalogue of the fleet's
    /// image and the license-included applications installed in it. Entitlements select applications only for SAML users: streaming-URL users
    /// are entitled to all of a stack's (AWS's documentation).
    pub applications: Vec<Application>,
    /// The fleet streams a whole desktop rather than applications.
    pub desktop: bool,
    /// The stack's theme, when it has one that is enabled.
    pub theme: Option<Theme>,
}

/// The view of session `id`, or none once it has ended.
pub fn session_view(state: &RegionState, id: &str) -> Option<SessionView> {
    let session = state.sessions.get(id)?.clone();
    let stack = state.stacks.get(&session.stack_name).cloned();
    let fleet = state
        .fleets
        .get(&session.fleet_name)
        .map(|r| r.fleet.clone());
    let applications = fleet
        .as_ref()
        .map(|fleet| applications_of(state, fleet))
        .unwrap_or_default();
    let desktop = fleet
        .as_ref()
        .is_some_and(|f| f.stream_view == Some(StreamView::Desktop));
    let theme = state
        .themes
        .get(&session.stack_name)
        .filter(|t| t.state == Some(ThemeState::Enabled))
        .cloned();
    Some(SessionView {
        session,
        stack,
        fleet,
        applications,
        desktop,
        theme,
    })
}

fn applications_of(state: &RegionState, fleet: &Fleet) -> Vec<Application> {
    if fleet.fleet_type == Some(FleetType::Elastic) {
        return state
            .application_fleets
            .rights_of(&fleet.name)
            .filter_map(|arn| {
                state
                    .applications
                    .values()
                    .find(|a| a.arn.as_deref() == Some(arn))
            })
            .filter(|a| a.enabled != Some(false))
            .cloned()
            .collect();
    }
    let Some(arn) = fleet.image_arn.as_deref() else {
        return Vec::new();
    };
    // Only an image of the account's own lists applications (public images list none),
    // and the license-included applications installed in its builder reach its users too.
    let Some(record) = state
        .images
        .values()
        .find(|record| record.image.arn.as_deref() == Some(arn))
    else {
        return Vec::new();
    };
    let catalogue = record
        .image
        .applications
        .iter()
        .flatten()
        .filter(|a| a.enabled != Some(false))
        .cloned();
    let installed = record.software.iter().map(|name| Application {
        name: Some(name.clone()),
        display_name: Some(name.replace('_', " ")),
        enabled: Some(true),
        ..Default::default()
    });
    catalogue.chain(installed).collect()
}
