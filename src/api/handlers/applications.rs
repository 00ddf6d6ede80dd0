//! CreateApplication, DescribeApplications, UpdateApplication, DeleteApplication: the
//! applications of app blocks that Elastic fleets offer.

use crate::api::handlers::s3_locations::{object_url, require_key};
use crate::error::ApiError;
use crate::generated::types::{
    Application, ApplicationAttribute, CreateApplicationRequest, CreateApplicationResult,
    DeleteApplicationRequest, DeleteApplicationResult, DescribeApplicationsRequest,
    DescribeApplicationsResult, PlatformType, S3Location, UpdateApplicationRequest,
    UpdateApplicationResult,
};
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::request::pagination::page_size;
use crate::state::RegionState;

/// DescribeApplications pages this many when MaxResults is not given (AWS documents none).
const DEFAULT_PAGE_SIZE: usize = 25;

/// The model's prose: "Valid values are GENERAL_PURPOSE and GRAPHICS_G4".
pub const APPLICATION_INSTANCE_FAMILIES: &[&str] = &["GENERAL_PURPOSE", "GRAPHICS_G4"];
/// The model's prose: the Elastic fleet platforms.
pub const APPLICATION_PLATFORMS: &[PlatformType] = &[
    PlatformType::WindowsServer2019,
    PlatformType::AmazonLinux2,
    PlatformType::UbuntuPro2404,
];

// CreateApplication and UpdateApplication list no InvalidParameterCombinationException,
// so breaking the rules their documentation gives in prose is a ValidationException.

/// The icon's URL; AWS says it may be time-limited and does not document its form.
fn icon_url(ctx: &RequestContext, icon: &S3Location) -> Result<String, ApiError> {
    require_key(icon, "IconS3Location")?;
    Ok(object_url(ctx, icon))
}

pub fn create_application(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateApplicationRequest,
) -> Result<CreateApplicationResult, ApiError> {
    if let Some(p) = req
        .platforms
        .iter()
        .find(|p| !APPLICATION_PLATFORMS.contains(p))
    {
        return Err(ApiError::validation(format!(
            "Platform {} is not supported for applications; use WINDOWS_SERVER_2019, AMAZON_LINUX2 or UBUNTU_PRO_2404.",
            p.as_str()
        )));
    }
    if let Some(f) = req
        .instance_families
        .iter()
        .find(|f| !APPLICATION_INSTANCE_FAMILIES.contains(&f.as_str()))
    {
        return Err(ApiError::validation(format!(
            "Instance family {f} is not supported for applications; use GENERAL_PURPOSE or GRAPHICS_G4."
        )));
    }
    let icon_url = icon_url(ctx, &req.icon_s3_location)?;
    state.applications.check_new(&req.name, None)?;
    state.app_blocks.find_by_arn(ctx, &req.app_block_arn)?;
    let arn = resource_arn(ctx.tenant, "application", &req.name);
    let application = Application {
        name: Some(req.name.clone()),
        display_name: req.display_name,
        icon_url: Some(icon_url),
        launch_path: Some(req.launch_path),
        launch_parameters: req.launch_parameters,
        enabled: Some(true),
        metadata: Some(Default::default()),
        working_directory: req.working_directory,
        description: req.description,
        arn: Some(arn.clone()),
        app_block_arn: Some(req.app_block_arn),
        icon_s3_location: Some(req.icon_s3_location),
        platforms: Some(req.platforms),
        instance_families: Some(req.instance_families),
        created_time: Some(ctx.now),
    };
    state.applications.insert(req.name, application.clone());
    if let Some(tags) = req.tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateApplicationResult {
        application: Some(application),
    })
}

pub fn describe_applications(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeApplicationsRequest,
) -> Result<DescribeApplicationsResult, ApiError> {
    let (applications, next_token) = state.applications.describe_arns(
        ctx,
        req.arns.as_deref(),
        req.next_token.as_deref(),
        page_size(req.max_results, DEFAULT_PAGE_SIZE),
        Application::clone,
    )?;
    Ok(DescribeApplicationsResult {
        applications: Some(applications),
        next_token,
    })
}

/// Changes only the members given; `AttributesToDelete` clears launch parameters or the
/// working directory.
pub fn update_application(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateApplicationRequest,
) -> Result<UpdateApplicationResult, ApiError> {
    state.applications.find(&req.name)?;
    if let Some(block) = &req.app_block_arn {
        state.app_blocks.find_by_arn(ctx, block)?;
    }
    let icon = match &req.icon_s3_location {
        Some(location) => Some(icon_url(ctx, location)?),
        None => None,
    };
    let app = state.applications.find_mut(&req.name)?;
    for attribute in req.attributes_to_delete.iter().flatten() {
        match attribute {
            ApplicationAttribute::LaunchParameters => app.launch_parameters = None,
            ApplicationAttribute::WorkingDirectory => app.working_directory = None,
        }
    }
    if let Some(url) = icon {
        app.icon_url = Some(url);
        app.icon_s3_location = req.icon_s3_location;
    }
    macro_rules! set {
        ($($field:ident),*) => {$(
            if let Some(v) = req.$field {
                app.$field = Some(v);
            }
        )*};
    }
    set!(
        display_name,
        description,
        launch_path,
        working_directory,
        launch_parameters,
        app_block_arn
    );
    Ok(UpdateApplicationResult {
        application: Some(app.clone()),
    })
}

/// An application associated with a fleet cannot go.
pub fn delete_application(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteApplicationRequest,
) -> Result<DeleteApplicationResult, ApiError> {
    let arn = state
        .applications
        .find(&req.name)?
        .arn
        .clone()
        .unwrap_or_default();
    if let Some(fleet) = state.application_fleets.lefts_of(&arn).next() {
        return Err(ApiError::in_use(format!(
            "Application {} is associated with fleet {fleet}.",
            req.name
        )));
    }
    if let Some(entitlement) = state.entitled_applications.lefts_of(&req.name).next() {
        return Err(ApiError::in_use(format!(
            "Application {} is associated with entitlement {entitlement}.",
            req.name
        )));
    }
    state.applications.remove(&req.name, &mut state.tags);
    Ok(DeleteApplicationResult {})
}
