//! CreateDirectoryConfig, DescribeDirectoryConfigs, UpdateDirectoryConfig and
//! DeleteDirectoryConfig: how fleets and image builders join Active Directory domains.
//! The service account's password is kept, for the fleets that join, but never returned.

use crate::error::ApiError;
use crate::generated::types::{
    CreateDirectoryConfigRequest, CreateDirectoryConfigResult, DeleteDirectoryConfigRequest,
    DeleteDirectoryConfigResult, DescribeDirectoryConfigsRequest, DescribeDirectoryConfigsResult,
    DirectoryConfig, DomainJoinInfo, UpdateDirectoryConfigRequest, UpdateDirectoryConfigResult,
};
use crate::request::context::RequestContext;
use crate::request::pagination::page_size;
use crate::state::RegionState;

/// DescribeDirectoryConfigs pages this many when MaxResults is not given (AWS documents
/// no default).
const DEFAULT_PAGE_SIZE: usize = 25;

/// A directory config as the API shows it: everything but the account password.
fn shown(config: &DirectoryConfig) -> DirectoryConfig {
    let mut config = config.clone();
    if let Some(credentials) = &mut config.service_account_credentials {
        credentials.account_password = None;
    }
    config
}

/// A fleet or image builder may join only a directory that has a config.
pub fn check_domain_join(
    state: &RegionState,
    join: Option<&DomainJoinInfo>,
) -> Result<(), ApiError> {
    match join.and_then(|j| j.directory_name.as_deref()) {
        Some(directory) => state.directory_configs.find(directory).map(|_| ()),
        None => Ok(()),
    }
}

pub fn create_directory_config(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateDirectoryConfigRequest,
) -> Result<CreateDirectoryConfigResult, ApiError> {
    state
        .directory_configs
        .check_new(&req.directory_name, None)?;
    let config = DirectoryConfig {
        directory_name: req.directory_name.clone(),
        organizational_unit_distinguished_names: Some(req.organizational_unit_distinguished_names),
        service_account_credentials: req.service_account_credentials,
        created_time: Some(ctx.now),
        certificate_based_auth_properties: req.certificate_based_auth_properties,
    };
    let answer = shown(&config);
    state.directory_configs.insert(req.directory_name, config);
    Ok(CreateDirectoryConfigResult {
        directory_config: Some(answer),
    })
}

pub fn describe_directory_configs(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeDirectoryConfigsRequest,
) -> Result<DescribeDirectoryConfigsResult, ApiError> {
    let (configs, next_token) = state.directory_configs.describe(
        ctx,
        req.directory_names.as_deref(),
        req.next_token.as_deref(),
        page_size(req.max_results, DEFAULT_PAGE_SIZE),
        shown,
    )?;
    Ok(DescribeDirectoryConfigsResult {
        directory_configs: Some(configs),
        next_token,
    })
}

/// Changes only the members given.
pub fn update_directory_config(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateDirectoryConfigRequest,
) -> Result<UpdateDirectoryConfigResult, ApiError> {
    let config = state.directory_configs.find_mut(&req.directory_name)?;
    if let Some(names) = req.organizational_unit_distinguished_names {
        config.organizational_unit_distinguished_names = Some(names);
    }
    if let Some(credentials) = req.service_account_credentials {
        config.service_account_credentials = Some(credentials);
    }
    if let Some(properties) = req.certificate_based_auth_properties {
        config.certificate_based_auth_properties = Some(properties);
    }
    Ok(UpdateDirectoryConfigResult {
        directory_config: Some(shown(config)),
    })
}

pub fn delete_directory_config(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteDirectoryConfigRequest,
) -> Result<DeleteDirectoryConfigResult, ApiError> {
    let name = &req.directory_name;
    state.directory_configs.find(name)?;
    let joins = |join: Option<&DomainJoinInfo>| {
        join.and_then(|j| j.directory_name.as_deref()) == Some(name.as_str())
    };
    let fleet = state
        .fleets
        .values()
        .find(|r| joins(r.fleet.domain_join_info.as_ref()))
        .map(|r| format!("fleet {}", r.fleet.name));
    let builder = state
        .image_builders
        .values()
        .find(|r| joins(r.builder.domain_join_info.as_ref()))
        .map(|r| format!("image builder {}", r.builder.name));
    if let Some(user) = fleet.or(builder) {
        return Err(ApiError::in_use(format!(
            "Directory config {name} is in use by {user}."
        )));
    }
    state.directory_configs.remove(name, &mut state.tags);
    Ok(DeleteDirectoryConfigResult {})
}
