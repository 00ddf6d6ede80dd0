//! Rules for stacks that the model states only in its prose, so the generated
//! validation cannot know them.

use serde_json::Value;

use crate::error::ApiError;
use crate::generated::types::{
    Action, AgentAccessConfig, AgentAccessConfigForUpdate, AgentAction, Permission,
    StorageConnector, StorageConnectorType, UserSetting,
};
use crate::model::validation::{check_range, list_item_path, member_path, Violations};

/// The first key that `items` lists more than once.
fn first_repeated<T, K: PartialEq>(items: &[T], key: impl Fn(&T) -> K) -> Option<K> {
    items
        .iter()
        .enumerate()
        .find(|(i, item)| items[..*i].iter().any(|earlier| key(earlier) == key(item)))
        .map(|(_, item)| key(item))
}

/// `UserSetting.MaximumLength`: 1..=20,971,520 characters (20 MB), and the default.
pub const MAX_CLIPBOARD_LENGTH: i32 = 20_971_520;

pub fn is_clipboard(action: Action) -> bool {
    matches!(
        action,
        Action::ClipboardCopyFromLocalDevice | Action::ClipboardCopyToLocalDevice
    )
}

/// MaximumLength only for the two clipboard actions, only when ENABLED, 1..=20,971,520;
/// each action at most once.
pub fn check_user_settings(settings: &[UserSetting]) -> Result<(), ApiError> {
    let mut violations = Violations::default();
    for (i, setting) in settings.iter().enumerate() {
        if let Some(length) = setting.maximum_length {
            let path = member_path(&list_item_path("userSettings", i), "MaximumLength");
            check_range(
                length.into(),
                Some(1),
                Some(MAX_CLIPBOARD_LENGTH.into()),
                &path,
                &Value::from(length),
                &mut violations,
            );
        }
    }
    violations.into_result()?;
    if let Some(action) = first_repeated(settings, |s| s.action) {
        return Err(ApiError::invalid_combination(format!(
            "UserSettings lists the action {} more than once.",
            action.as_str()
        )));
    }
    for setting in settings {
        if setting.maximum_length.is_some() {
            if !is_clipboard(setting.action) {
                return Err(ApiError::invalid_combination(format!(
                    "MaximumLength can be specified only for the CLIPBOARD_COPY_FROM_LOCAL_DEVICE and CLIPBOARD_COPY_TO_LOCAL_DEVICE actions, not for {}.",
                    setting.action.as_str()
                )));
            }
            if setting.permission == Permission::Disabled {
                return Err(ApiError::invalid_combination(format!(
                    "MaximumLength can't be specified for {} when its permission is DISABLED.",
                    setting.action.as_str()
                )));
            }
        }
    }
    Ok(())
}

/// DomainsRequireAdminConsent only for ONE_DRIVE; each connector type at most once.
pub fn check_storage_connectors(connectors: &[StorageConnector]) -> Result<(), ApiError> {
    if let Some(connector_type) = first_repeated(connectors, |c| c.connector_type) {
        return Err(ApiError::invalid_combination(format!(
            "StorageConnectors lists the connector type {} more than once.",
            connector_type.as_str()
        )));
    }
    for connector in connectors {
        if connector.domains_require_admin_consent.is_some()
            && connector.connector_type != StorageConnectorType::OneDrive
        {
            return Err(ApiError::invalid_combination(format!(
                "DomainsRequireAdminConsent can only be specified when ConnectorType is ONE_DRIVE, not {}.",
                connector.connector_type.as_str()
            )));
        }
    }
    Ok(())
}

/// The documented conditions on a stack's (possibly merged) agent access configuration.
pub fn check_agent_access(config: &AgentAccessConfig, region: &str) -> Result<(), ApiError> {
    let enabled = |action: AgentAction| {
        config
            .settings
            .iter()
            .any(|s| s.agent_action == action && s.permission == Permission::Enabled)
    };
    if let Some(action) = first_repeated(&config.settings, |s| s.agent_action) {
        return Err(ApiError::invalid_combination(format!(
            "AgentAccessConfig.Settings lists the agent action {} more than once.",
            action.as_str()
        )));
    }
    if !AgentAction::ALL.into_iter().any(enabled) {
        return Err(ApiError::invalid_combination(
            "AgentAccessConfig.Settings must enable at least one agent action.",
        ));
    }
    let screenshots = config.screenshots_upload_enabled == Some(true);
    let replay = config.replay_session_enabled == Some(true);
    if (screenshots || replay) && config.s3_bucket_arn.is_none() {
        return Err(ApiError::invalid_combination(
            "AgentAccessConfig.S3BucketArn is required when ScreenshotsUploadEnabled or ReplaySessionEnabled is true.",
        ));
    }
    if replay && !enabled(AgentAction::ComputerVision) {
        return Err(ApiError::invalid_combination(
            "AgentAccessConfig.ReplaySessionEnabled requires the COMPUTER_VISION agent action to be enabled.",
        ));
    }
    if let Some(key) = &config.kms_key_arn {
        if !replay {
            return Err(ApiError::invalid_combination(
                "AgentAccessConfig.KmsKeyArn can only be specified when ReplaySessionEnabled is true.",
            ));
        }
        let key_region = key.split(':').nth(3).unwrap_or_default();
        if key_region != region {
            return Err(ApiError::invalid_combination(format!(
                "AgentAccessConfig.KmsKeyArn must be a key in the stack's Region ({region}), not {key_region}."
            )));
        }
    }
    Ok(())
}

/// Replaces the entries of `current` whose key the update names and appends new ones:
/// updates of user settings, connectors and agent settings name only what changes, and
/// removal is AttributesToDelete's job.
pub fn upsert_by<T, K: PartialEq>(current: &mut Vec<T>, update: Vec<T>, key: impl Fn(&T) -> K) {
    for item in update {
        match current.iter_mut().find(|c| key(c) == key(&item)) {
            Some(existing) => *existing = item,
            None => current.push(item),
        }
    }
}

/// AgentAccessConfigForUpdate is a partial update of a stack's or an image builder's
/// (`owner`'s) configuration: settings by agent action, the rest by member.
pub fn merge_agent_access(
    current: Option<AgentAccessConfig>,
    update: AgentAccessConfigForUpdate,
    owner: &str,
) -> Result<AgentAccessConfig, ApiError> {
    let mut config = match current {
        Some(config) => config,
        None => {
            let (Some(settings), Some(screen_resolution), Some(screen_image_format)) = (
                update.settings.clone(),
                update.screen_resolution,
                update.screen_image_format,
            ) else {
                return Err(ApiError::invalid_combination(
                    format!("The {owner} has no agent access yet: AgentAccessConfig needs Settings, ScreenResolution and ScreenImageFormat."),
                ));
            };
            AgentAccessConfig {
                settings,
                s3_bucket_arn: None,
                screenshots_upload_enabled: None,
                replay_session_enabled: None,
                kms_key_arn: None,
                screen_resolution,
                screen_image_format,
                user_control_mode: None,
            }
        }
    };
    if let Some(settings) = update.settings {
        upsert_by(&mut config.settings, settings, |s| s.agent_action);
    }
    if let Some(v) = update.s3_bucket_arn {
        config.s3_bucket_arn = Some(v);
    }
    if let Some(v) = update.screenshots_upload_enabled {
        config.screenshots_upload_enabled = Some(v);
    }
    if let Some(v) = update.replay_session_enabled {
        config.replay_session_enabled = Some(v);
        if !v {
            // Documented: turning Replay Session off also removes the key.
            config.kms_key_arn = None;
        }
    }
    if let Some(v) = update.kms_key_arn {
        config.kms_key_arn = Some(v);
    }
    if let Some(v) = update.screen_resolution {
        config.screen_resolution = v;
    }
    if let Some(v) = update.screen_image_format {
        config.screen_image_format = v;
    }
    if let Some(v) = update.user_control_mode {
        config.user_control_mode = Some(v);
    }
    Ok(config)
}
