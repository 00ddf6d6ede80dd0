//! Streaming: CreateStreamingURL and the sessions its URLs stand for (DescribeSessions,
//! ExpireSession). Image builders' streaming URLs share the URL form.

use serde_json::Value;

use crate::api::handlers::license_usage;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AuthenticationType, CreateStreamingURLRequest, CreateStreamingURLResult,
    DescribeSessionsRequest, DescribeSessionsResult, DrainSessionInstanceRequest,
    DrainSessionInstanceResult, ExpireSessionRequest, ExpireSessionResult, FleetState,
    InstanceDrainStatus, Session, SessionConnectionState, SessionState,
};
use crate::identity::streaming::{Grant, Stage, Target};
use crate::model::validation::{check_range, Violations};
use crate::request::context::RequestContext;
use crate::request::pagination::{map_after, page, page_size};
use crate::state::RegionState;

/// Validity bounds of a streaming URL in seconds (the model's documentation).
const MAX_VALIDITY: i64 = 604_800;
const DEFAULT_VALIDITY: i64 = 60;
/// DescribeSessions: default 20 per page, at most 50.
const DEFAULT_SESSIONS_LIMIT: usize = 20;
const MAX_SESSIONS_LIMIT: i32 = 50;

/// `Validity`, checked against 1..=604800 and defaulted.
pub fn validity(given: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let mut v = Violations::default();
    if let Some(n) = given {
        check_range(
            n,
            Some(1),
            Some(MAX_VALIDITY),
            "validity",
            &Value::from(n),
            &mut v,
        );
    }
    v.into_result()?;
    Ok(given.unwrap_or(default))
}

/// The grant a streaming URL carries: `target` in the caller's account and Region,
/// opened from the URL until `expires`.
pub fn entry_grant(ctx: &RequestContext, target: Target, expires: f64) -> Grant {
    Grant {
        account: ctx.tenant.account.clone(),
        region: ctx.tenant.region.clone(),
        target,
        expires,
        stage: Stage::Entry,
        application: None,
        instance: None,
    }
}

pub fn create_streaming_url(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateStreamingURLRequest,
) -> Result<CreateStreamingURLResult, ApiError> {
    let validity = validity(req.validity, DEFAULT_VALIDITY)?;
    state.stacks.find(&req.stack_name)?;
    let fleet = &state.fleets.find(&req.fleet_name)?.fleet;
    if !state
        .fleet_stacks
        .contains(&req.stack_name, &req.fleet_name)
    {
        return Err(ApiError::invalid_combination(format!(
            "Fleet {} is not associated with stack {}.",
            req.fleet_name, req.stack_name
        )));
    }
    if fleet.state != FleetState::Running {
        return Err(ApiError::modeled(
            ModeledError::ResourceNotAvailableException,
            format!(
                "Fleet {} is {}; streaming URLs need a RUNNING fleet.",
                req.fleet_name,
                fleet.state.as_str()
            ),
        ));
    }
    let expires = ctx.now + validity as f64;
    let session = Session {
        id: ctx.unique_id().to_string(),
        user_id: req.user_id.clone(),
        stack_name: req.stack_name.clone(),
        fleet_name: req.fleet_name.clone(),
        state: SessionState::Pending,
        connection_state: Some(SessionConnectionState::NotConnected),
        // Both are set when the user opens the URL (session_connections).
        start_time: None,
        max_expiration_time: None,
        authentication_type: Some(AuthenticationType::Api),
        network_access_configuration: None,
        instance_id: None,
        instance_drain_status: None,
    };
    let grant = Grant {
        application: req.application_id,
        ..entry_grant(ctx, Target::Session(session.id.clone()), expires)
    };
    let url = ctx.streaming_url(&grant);
    if let Some(image_arn) = fleet.image_arn.clone() {
        license_usage::record_session(ctx, state, &image_arn, &session.user_id);
    }
    state.sessions.insert(session.id.clone(), session);
    Ok(CreateStreamingURLResult {
        streaming_url: Some(url),
        expires: Some(expires),
    })
}

pub fn describe_sessions(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeSessionsRequest,
) -> Result<DescribeSessionsResult, ApiError> {
    let mut v = Violations::default();
    if let Some(limit) = req.limit {
        check_range(
            limit.into(),
            Some(1),
            Some(MAX_SESSIONS_LIMIT.into()),
            "limit",
            &Value::from(limit),
            &mut v,
        );
    }
    v.into_result()?;
    // Documented: without AuthenticationType, sessions of streaming-URL (API) users.
    let authentication_type = req.authentication_type.unwrap_or(AuthenticationType::Api);
    let matches = |s: &Session| {
        s.stack_name == req.stack_name
            && s.fleet_name == req.fleet_name
            && s.authentication_type == Some(authentication_type)
            && req.user_id.as_ref().is_none_or(|u| *u == s.user_id)
            && req
                .instance_id
                .as_ref()
                .is_none_or(|i| Some(i) == s.instance_id.as_ref())
    };
    let limit = page_size(req.limit, DEFAULT_SESSIONS_LIMIT);
    let (sessions, next_token) = page(ctx, req.next_token.as_deref(), limit, |after| {
        map_after(&state.sessions, after)
            .filter(|(_, s)| matches(s))
            .map(|(id, s)| (id, s.clone()))
    })?;
    Ok(DescribeSessionsResult {
        sessions: Some(sessions),
        next_token,
    })
}

/// The model lists no errors: expiring an unknown or ended session succeeds.
pub fn expire_session(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: ExpireSessionRequest,
) -> Result<ExpireSessionResult, ApiError> {
    state.sessions.remove(&req.session_id);
    Ok(ExpireSessionResult {})
}

/// The session's instance stops taking new sessions while its current ones go on; only
/// multi-session fleets have instances to drain (the model's documentation). Sessions of
/// one instance all show DRAINING.
pub fn drain_session_instance(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DrainSessionInstanceRequest,
) -> Result<DrainSessionInstanceResult, ApiError> {
    let session = state.sessions.get(&req.session_id).ok_or_else(|| {
        ApiError::not_found(format!("Session {} does not exist.", req.session_id))
    })?;
    let multi_session = state
        .fleets
        .get(&session.fleet_name)
        .is_some_and(|r| r.fleet.max_sessions_per_instance.is_some());
    if !multi_session {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!(
                "Session {} is on fleet {}, which is not a multi-session fleet.",
                req.session_id, session.fleet_name
            ),
        ));
    }
    let instance = session.instance_id.clone();
    let fleet = session.fleet_name.clone();
    for s in state.sessions.values_mut() {
        let same_instance = match &instance {
            Some(id) => s.instance_id.as_ref() == Some(id),
            None => s.id == req.session_id,
        };
        if s.fleet_name == fleet && same_instance {
            s.instance_drain_status = Some(InstanceDrainStatus::Draining);
        }
    }
    Ok(DrainSessionInstanceResult {})
}
