//! Streaming: CreateStreamingURL and the sessions its URLs stand for (DescribeSessions,
//! ExpireSession). Image builders' streaming URLs share the URL form.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AuthenticationType, CreateStreamingURLRequest, CreateStreamingURLResult,
    DescribeSessionsRequest, DescribeSessionsResult, DrainSessionInstanceRequest,
    DrainSessionInstanceResult, ExpireSessionRequest, ExpireSessionResult, FleetState,
    InstanceDrainStatus, Session, SessionConnectionState, SessionState,
};
use crate::handlers::license_usage;
use crate::pagination::{map_after, page, page_size};
use crate::state::RegionState;
use crate::validation::{check_range, Violations};

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

/// A URL of AWS's form: the AppStream sign-in endpoint of the region with opaque,
/// base64url-encoded parameters and a signature.
pub fn streaming_url(ctx: &RequestContext, parameters: Value) -> String {
    let encoded = URL_SAFE_NO_PAD.encode(parameters.to_string());
    let signature = ctx.unique_id().simple().to_string();
    format!(
        "https://appstream2.{}.aws.amazon.com/authenticate?parameters={encoded}&signature={signature}",
        ctx.tenant.region
    )
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
    let started = ctx.now;
    let expires = started + validity as f64;
    let max_duration = fleet.max_user_duration_in_seconds.unwrap_or(57_600);
    let session = Session {
        id: ctx.unique_id().to_string(),
        user_id: req.user_id.clone(),
        stack_name: req.stack_name.clone(),
        fleet_name: req.fleet_name.clone(),
        state: SessionState::Pending,
        connection_state: Some(SessionConnectionState::NotConnected),
        start_time: Some(started),
        max_expiration_time: Some(started + f64::from(max_duration)),
        authentication_type: Some(AuthenticationType::Api),
        network_access_configuration: None,
        instance_id: None,
        instance_drain_status: None,
    };
    let url = streaming_url(
        ctx,
        json!({
            "type": "END_USER",
            "expires": expires as i64,
            "awsAccountId": ctx.tenant.account,
            "userId": req.user_id,
            "catalogSource": format!("stack/{}", req.stack_name),
            "fleetRef": format!("fleet/{}", req.fleet_name),
            "applicationId": req.application_id.unwrap_or_default(),
            "userContext": req.session_context.unwrap_or_default(),
            "maxUserDurationInSecs": max_duration,
            "sessionId": session.id,
        }),
    );
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
