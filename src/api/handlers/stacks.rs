//! CreateStack, DescribeStacks, UpdateStack, DeleteStack.

use crate::api::handlers::entitlements::entitlement_key;
use crate::api::handlers::stack_rules::{
    check_agent_access, check_storage_connectors, check_user_settings, is_clipboard,
    merge_agent_access, upsert_by, MAX_CLIPBOARD_LENGTH,
};
use crate::config::quotas;
use crate::error::ApiError;
use crate::generated::types::{
    Action, ApplicationSettings, ApplicationSettingsResponse, CreateStackRequest,
    CreateStackResult, DeleteStackRequest, DeleteStackResult, DescribeStacksRequest,
    DescribeStacksResult, Permission, Stack, StackAttribute, StorageConnectorType,
    UpdateStackRequest, UpdateStackResult, UserSetting,
};
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::state::RegionState;

/// Stacks per DescribeStacks page. The model has no MaxResults for it; AWS does not
/// document its page size.
pub const DESCRIBE_STACKS_PAGE_SIZE: usize = 25;

pub fn create_stack(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateStackRequest,
) -> Result<CreateStackResult, ApiError> {
    if let Some(settings) = &req.user_settings {
        check_user_settings(settings)?;
    }
    if let Some(connectors) = &req.storage_connectors {
        check_storage_connectors(connectors)?;
    }
    if let Some(agent) = &req.agent_access_config {
        check_agent_access(agent, &ctx.tenant.region)?;
    }
    state
        .stacks
        .check_new(&req.name, ctx.rules.quota(quotas::STACKS_PER_REGION))?;
    let arn = resource_arn(ctx.tenant, "stack", &req.name);
    let stack = Stack {
        arn: Some(arn.clone()),
        name: req.name.clone(),
        description: req.description,
        display_name: req.display_name,
        created_time: Some(ctx.now),
        storage_connectors: req.storage_connectors,
        redirect_url: req.redirect_url,
        feedback_url: req.feedback_url,
        stack_errors: None,
        user_settings: Some(complete_user_settings(
            default_user_settings(),
            req.user_settings.unwrap_or_default(),
        )),
        application_settings: Some(application_settings(
            ctx,
            req.application_settings.as_ref(),
            state.application_settings_bucket.as_deref(),
        )),
        access_endpoints: req.access_endpoints,
        embed_host_domains: req.embed_host_domains,
        streaming_experience_settings: req.streaming_experience_settings,
        content_redirection: req.content_redirection,
        web_authn_redirection: req.web_authn_redirection,
        agent_access_config: req.agent_access_config,
        storage_connector_authentication: req.storage_connector_authentication,
    };
    keep_settings_bucket(state, &stack);
    state.stacks.insert(req.name, stack.clone());
    if let Some(tags) = req.tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateStackResult { stack: Some(stack) })
}

pub fn describe_stacks(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeStacksRequest,
) -> Result<DescribeStacksResult, ApiError> {
    let (stacks, next_token) = state.stacks.describe(
        ctx,
        req.names.as_deref(),
        req.next_token.as_deref(),
        DESCRIBE_STACKS_PAGE_SIZE,
        Stack::clone,
    )?;
    Ok(DescribeStacksResult {
        stacks: Some(stacks),
        next_token,
    })
}

pub fn update_stack(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateStackRequest,
) -> Result<UpdateStackResult, ApiError> {
    let existing = state.stacks.find(&req.name)?;
    if let Some(settings) = &req.user_settings {
        check_user_settings(settings)?;
    }
    if let Some(connectors) = &req.storage_connectors {
        check_storage_connectors(connectors)?;
    }
    let deletes = req.attributes_to_delete.clone().unwrap_or_default();
    for attribute in &deletes {
        if sets_attribute(&req, *attribute) {
            return Err(ApiError::invalid_combination(format!(
                "AttributesToDelete names {} while the request also sets it.",
                attribute.as_str()
            )));
        }
    }
    if req.delete_storage_connectors == Some(true) && req.storage_connectors.is_some() {
        return Err(ApiError::invalid_combination(
            "DeleteStorageConnectors and StorageConnectors cannot be given together.",
        ));
    }

    // Work on a copy: the stored stack changes only once every check has passed.
    let mut stack = existing.clone();
    for attribute in &deletes {
        delete_attribute(&mut stack, *attribute);
    }
    if req.delete_storage_connectors == Some(true) {
        stack.storage_connectors = None;
    }
    if let Some(v) = req.display_name {
        stack.display_name = Some(v);
    }
    if let Some(v) = req.description {
        stack.description = Some(v);
    }
    if let Some(connectors) = req.storage_connectors {
        let mut current = stack.storage_connectors.take().unwrap_or_default();
        upsert_by(&mut current, connectors, |c| c.connector_type);
        stack.storage_connectors = Some(current);
    }
    if let Some(v) = req.redirect_url {
        stack.redirect_url = Some(v);
    }
    if let Some(v) = req.feedback_url {
        stack.feedback_url = Some(v);
    }
    if let Some(settings) = req.user_settings {
        let current = stack
            .user_settings
            .take()
            .unwrap_or_else(default_user_settings);
        stack.user_settings = Some(complete_user_settings(current, settings));
    }
    if let Some(settings) = &req.application_settings {
        stack.application_settings = Some(application_settings(
            ctx,
            Some(settings),
            state.application_settings_bucket.as_deref(),
        ));
    }
    if let Some(v) = req.access_endpoints {
        stack.access_endpoints = Some(v);
    }
    if let Some(v) = req.embed_host_domains {
        stack.embed_host_domains = Some(v);
    }
    if let Some(v) = req.streaming_experience_settings {
        stack.streaming_experience_settings = Some(v);
    }
    if let Some(v) = req.content_redirection {
        stack.content_redirection = Some(v);
    }
    if let Some(v) = req.web_authn_redirection {
        stack.web_authn_redirection = Some(v);
    }
    if let Some(update) = req.agent_access_config {
        let merged = merge_agent_access(stack.agent_access_config.take(), update, "stack")?;
        check_agent_access(&merged, &ctx.tenant.region)?;
        stack.agent_access_config = Some(merged);
    }
    if let Some(v) = req.storage_connector_authentication {
        stack.storage_connector_authentication = Some(v);
    }
    keep_settings_bucket(state, &stack);
    *state.stacks.find_mut(&req.name)? = stack.clone();
    Ok(UpdateStackResult { stack: Some(stack) })
}

pub fn delete_stack(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteStackRequest,
) -> Result<DeleteStackResult, ApiError> {
    state.stacks.find(&req.name)?;
    if state.fleets_of_stack(&req.name).next().is_some() {
        return Err(ApiError::in_use(format!(
            "Cannot delete stack {}. This stack has fleets associated with it. Only stacks with no fleets associated with it can be deleted.",
            req.name
        )));
    }
    state.stacks.remove(&req.name, &mut state.tags);
    state.themes.remove(&req.name, &mut state.tags);
    // The stack's entitlements, and their applications, go with it.
    let prefix = entitlement_key(&req.name, "");
    let entitlements: Vec<String> = state
        .entitlements
        .keys()
        .filter(|key| key.starts_with(&prefix))
        .cloned()
        .collect();
    for key in entitlements {
        state.entitlements.remove(&key, &mut state.tags);
        state.entitled_applications.remove_left(&key);
    }
    state.user_stacks.remove_left(&req.name);
    Ok(DeleteStackResult {})
}

/// What AWS reads back for a stack created without UserSettings: one setting per action
/// (the Terraform provider's tests count 8, and its documented example lists these), the
/// two sign-in and time-zone extras off. SMART_CARD_REDIRECTION, newer than the provider's
/// SDK, appears only once a stack is given it: reading it back unasked would be a change
/// Terraform could never apply.
fn default_user_settings() -> Vec<UserSetting> {
    use Permission::{Disabled, Enabled};
    [
        (Action::ClipboardCopyFromLocalDevice, Enabled),
        (Action::ClipboardCopyToLocalDevice, Enabled),
        (Action::FileUpload, Enabled),
        (Action::FileDownload, Enabled),
        (Action::PrintingToLocalDevice, Enabled),
        (Action::DomainPasswordSignin, Enabled),
        (Action::DomainSmartCardSignin, Disabled),
        (Action::AutoTimeZoneRedirection, Disabled),
    ]
    .into_iter()
    .map(|(action, permission)| UserSetting {
        action,
        permission,
        maximum_length: None,
    })
    .collect()
}

/// `given` over `current`, setting by action: what CreateStack and UpdateStack leave, so
/// that a stack always carries every action, also after a partial update.
fn complete_user_settings(
    mut current: Vec<UserSetting>,
    given: Vec<UserSetting>,
) -> Vec<UserSetting> {
    upsert_by(&mut current, given, |s| s.action);
    with_default_lengths(current)
}

/// Enabled clipboard actions carry the documented default MaximumLength.
fn with_default_lengths(mut settings: Vec<UserSetting>) -> Vec<UserSetting> {
    for s in &mut settings {
        if is_clipboard(s.action) && s.permission == Permission::Enabled {
            s.maximum_length.get_or_insert(MAX_CLIPBOARD_LENGTH);
        }
        if s.permission == Permission::Disabled {
            s.maximum_length = None;
        }
    }
    settings
}

/// Remembers the settings bucket the first enabled stack of a Region was given.
fn keep_settings_bucket(state: &mut RegionState, stack: &Stack) {
    if state.application_settings_bucket.is_none() {
        state.application_settings_bucket = stack
            .application_settings
            .as_ref()
            .and_then(|settings| settings.s3_bucket_name.clone());
    }
}

/// The read-back form. An enabled stack uses the account's settings bucket in the Region
/// (AWS makes one per account and Region, on first use, and reuses it), of AWS's name form.
fn application_settings(
    ctx: &RequestContext,
    given: Option<&ApplicationSettings>,
    region_bucket: Option<&str>,
) -> ApplicationSettingsResponse {
    let Some(given) = given else {
        return ApplicationSettingsResponse {
            enabled: Some(false),
            settings_group: None,
            s3_bucket_name: None,
        };
    };
    let bucket = given.enabled.then(|| {
        region_bucket.map(str::to_string).unwrap_or_else(|| {
            format!(
                "appstream-app-settings-{}-{}-{}",
                ctx.tenant.region,
                ctx.tenant.account,
                ctx.random_suffix(10)
            )
        })
    });
    ApplicationSettingsResponse {
        enabled: Some(given.enabled),
        settings_group: given.settings_group.clone(),
        s3_bucket_name: bucket,
    }
}

/// Whether the update request also sets what `attribute` would delete.
fn sets_attribute(req: &UpdateStackRequest, attribute: StackAttribute) -> bool {
    let has_connector = |t: StorageConnectorType| {
        req.storage_connectors
            .as_ref()
            .is_some_and(|cs| cs.iter().any(|c| c.connector_type == t))
    };
    match attribute {
        StackAttribute::StorageConnectors => req.storage_connectors.is_some(),
        StackAttribute::StorageConnectorHomefolders => {
            has_connector(StorageConnectorType::Homefolders)
        }
        StackAttribute::StorageConnectorGoogleDrive => {
            has_connector(StorageConnectorType::GoogleDrive)
        }
        StackAttribute::StorageConnectorOneDrive => has_connector(StorageConnectorType::OneDrive),
        StackAttribute::RedirectUrl => req.redirect_url.is_some(),
        StackAttribute::FeedbackUrl => req.feedback_url.is_some(),
        StackAttribute::UserSettings => req.user_settings.is_some(),
        StackAttribute::EmbedHostDomains => req.embed_host_domains.is_some(),
        StackAttribute::AccessEndpoints => req.access_endpoints.is_some(),
        StackAttribute::StreamingExperienceSettings => req.streaming_experience_settings.is_some(),
        StackAttribute::ContentRedirection => req.content_redirection.is_some(),
        StackAttribute::WebAuthnRedirection => req.web_authn_redirection.is_some(),
        StackAttribute::AgentAccessConfig => req.agent_access_config.is_some(),
        StackAttribute::AgentAccessConfigKmsKeyArn => req
            .agent_access_config
            .as_ref()
            .is_some_and(|a| a.kms_key_arn.is_some()),
        StackAttribute::StorageConnectorAuthentication => {
            req.storage_connector_authentication.is_some()
        }
        // Neither is a member of Stack; deleting them is accepted and changes nothing.
        StackAttribute::ThemeName | StackAttribute::IamRoleArn => false,
    }
}

fn drop_connector(stack: &mut Stack, connector_type: StorageConnectorType) {
    if let Some(cs) = &mut stack.storage_connectors {
        cs.retain(|c| c.connector_type != connector_type);
        if cs.is_empty() {
            stack.storage_connectors = None;
        }
    }
}

fn delete_attribute(stack: &mut Stack, attribute: StackAttribute) {
    match attribute {
        StackAttribute::StorageConnectors => stack.storage_connectors = None,
        StackAttribute::StorageConnectorHomefolders => {
            drop_connector(stack, StorageConnectorType::Homefolders)
        }
        StackAttribute::StorageConnectorGoogleDrive => {
            drop_connector(stack, StorageConnectorType::GoogleDrive)
        }
        StackAttribute::StorageConnectorOneDrive => {
            drop_connector(stack, StorageConnectorType::OneDrive)
        }
        StackAttribute::RedirectUrl => stack.redirect_url = None,
        StackAttribute::FeedbackUrl => stack.feedback_url = None,
        // Deleted user settings fall back to AWS's defaults.
        StackAttribute::UserSettings => {
            stack.user_settings = Some(with_default_lengths(default_user_settings()))
        }
        StackAttribute::EmbedHostDomains => stack.embed_host_domains = None,
        StackAttribute::AccessEndpoints => stack.access_endpoints = None,
        StackAttribute::StreamingExperienceSettings => stack.streaming_experience_settings = None,
        StackAttribute::ContentRedirection => stack.content_redirection = None,
        StackAttribute::WebAuthnRedirection => stack.web_authn_redirection = None,
        StackAttribute::AgentAccessConfig => stack.agent_access_config = None,
        StackAttribute::AgentAccessConfigKmsKeyArn => {
            if let Some(a) = &mut stack.agent_access_config {
                a.kms_key_arn = None;
            }
        }
        StackAttribute::StorageConnectorAuthentication => {
            stack.storage_connector_authentication = None
        }
        StackAttribute::ThemeName | StackAttribute::IamRoleArn => {}
    }
}
