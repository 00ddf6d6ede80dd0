//! Rules for fleets that the model states only in its prose.

use serde_json::Value;

use crate::error::ApiError;
use crate::generated::types::{ComputeCapacity, FleetType, PlatformType, VpcConfig};
use crate::model::validation::{check_range, Violations};

/// The timeouts and capacities a fleet's settings must respect, wherever they come from.
pub struct FleetSettings<'a> {
    pub fleet_type: FleetType,
    pub max_user_duration: Option<i32>,
    pub disconnect_timeout: Option<i32>,
    pub idle_disconnect_timeout: Option<i32>,
    pub compute_capacity: Option<&'a ComputeCapacity>,
    pub max_concurrent_sessions: Option<i32>,
    pub max_sessions_per_instance: Option<i32>,
    pub vpc_config: Option<&'a VpcConfig>,
    pub platform: Option<PlatformType>,
    pub has_domain_join: bool,
    pub has_session_script: bool,
}

/// Documented ranges: MaxUserDurationInSeconds 600..=432000, DisconnectTimeoutInSeconds
/// 60..=36000, IdleDisconnectTimeoutInSeconds 0 or 60..=36000.
pub fn check_ranges(s: &FleetSettings) -> Result<(), ApiError> {
    let mut v = Violations::default();
    let mut range = |value: Option<i32>, path: &str, min: i64, max: i64| {
        if let Some(n) = value {
            check_range(
                n.into(),
                Some(min),
                Some(max),
                path,
                &Value::from(n),
                &mut v,
            );
        }
    };
    range(
        s.max_user_duration,
        "maxUserDurationInSeconds",
        600,
        432_000,
    );
    range(
        s.disconnect_timeout,
        "disconnectTimeoutInSeconds",
        60,
        36_000,
    );
    if s.idle_disconnect_timeout != Some(0) {
        range(
            s.idle_disconnect_timeout,
            "idleDisconnectTimeoutInSeconds",
            60,
            36_000,
        );
    }
    if let Some(c) = s.compute_capacity {
        range(
            c.desired_instances,
            "computeCapacity.desiredInstances",
            0,
            10_000,
        );
        range(
            c.desired_sessions,
            "computeCapacity.desiredSessions",
            0,
            100_000,
        );
    }
    range(
        s.max_concurrent_sessions,
        "maxConcurrentSessions",
        1,
        100_000,
    );
    range(s.max_sessions_per_instance, "maxSessionsPerInstance", 1, 50);
    v.into_result()
}

fn combination(message: &str) -> Result<(), ApiError> {
    Err(ApiError::invalid_combination(message))
}

/// What each fleet type requires and forbids.
pub fn check_type_rules(s: &FleetSettings) -> Result<(), ApiError> {
    if s.fleet_type == FleetType::Elastic {
        if s.compute_capacity.is_some() {
            return combination("ComputeCapacity is not allowed for Elastic fleets; specify MaxConcurrentSessions instead.");
        }
        if s.max_concurrent_sessions.is_none() {
            return combination("MaxConcurrentSessions is required for Elastic fleets.");
        }
        if s.has_domain_join {
            return combination("DomainJoinInfo is not allowed for Elastic fleets.");
        }
        let subnets = s
            .vpc_config
            .and_then(|v| v.subnet_ids.as_ref())
            .map_or(0, Vec::len);
        if subnets < 2 {
            return combination(
                "Elastic fleets require a VpcConfig with at least two subnets in different Availability Zones.",
            );
        }
        match s.platform {
            Some(PlatformType::WindowsServer2019 | PlatformType::AmazonLinux2 | PlatformType::UbuntuPro2404) => {}
            Some(other) => {
                return Err(ApiError::invalid_combination(format!(
                    "Platform {} is not supported for Elastic fleets; use WINDOWS_SERVER_2019, AMAZON_LINUX2 or UBUNTU_PRO_2404.",
                    other.as_str()
                )))
            }
            None => return combination("Platform is required for Elastic fleets."),
        }
        return Ok(());
    }
    if s.max_concurrent_sessions.is_some() {
        return combination("MaxConcurrentSessions is only allowed for Elastic fleets.");
    }
    if s.has_session_script {
        return combination("SessionScriptS3Location only applies to Elastic fleets.");
    }
    let Some(capacity) = s.compute_capacity else {
        return combination("ComputeCapacity is required for Always-On and On-Demand fleets.");
    };
    let multi_session = s.max_sessions_per_instance.is_some();
    match (capacity.desired_instances, capacity.desired_sessions) {
        (Some(_), Some(_)) | (None, None) => {
            combination("Specify exactly one of ComputeCapacity.DesiredInstances and DesiredSessions.")
        }
        (Some(_), None) if multi_session => combination(
            "A multi-session fleet (MaxSessionsPerInstance) sets ComputeCapacity.DesiredSessions, not DesiredInstances.",
        ),
        (None, Some(_)) if !multi_session => combination(
            "ComputeCapacity.DesiredSessions is only for multi-session fleets; set MaxSessionsPerInstance or use DesiredInstances.",
        ),
        _ => Ok(()),
    }
}

/// Instances needed for the desired capacity.
pub fn desired_instances(capacity: Option<&ComputeCapacity>, per_instance: Option<i32>) -> i32 {
    match capacity {
        Some(ComputeCapacity {
            desired_instances: Some(n),
            ..
        }) => *n,
        Some(ComputeCapacity {
            desired_sessions: Some(sessions),
            ..
        }) => {
            let per = per_instance.unwrap_or(1).max(1);
            (sessions + per - 1) / per
        }
        _ => 0,
    }
}
