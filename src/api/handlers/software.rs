//! License-included software of image builders: AssociateSoftwareToImageBuilder,
//! DisassociateSoftwareFromImageBuilder, StartSoftwareDeploymentToImageBuilder,
//! DescribeSoftwareAssociations. Associations are staged, then a deployment makes them
//! pending and, after the transition delay, installed (or removed).

use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::overlay::LICENSE_INCLUDED_SOFTWARE;
use crate::generated::types::{
    AssociateSoftwareToImageBuilderRequest, AssociateSoftwareToImageBuilderResult,
    DescribeSoftwareAssociationsRequest, DescribeSoftwareAssociationsResult,
    DisassociateSoftwareFromImageBuilderRequest, DisassociateSoftwareFromImageBuilderResult,
    ImageBuilderState, SoftwareAssociations, SoftwareDeploymentStatus,
    StartSoftwareDeploymentToImageBuilderRequest, StartSoftwareDeploymentToImageBuilderResult,
};
use crate::request::context::RequestContext;
use crate::request::pagination::{page, page_size};
use crate::state::lifecycle::{SoftwareRecord, Transition};
use crate::state::RegionState;

use SoftwareDeploymentStatus as Status;

/// DescribeSoftwareAssociations pages this many when MaxResults is not given.
const DEFAULT_PAGE_SIZE: usize = 25;

fn check_names(names: &[String]) -> Result<(), ApiError> {
    match names
        .iter()
        .find(|n| !LICENSE_INCLUDED_SOFTWARE.contains(&n.as_str()))
    {
        Some(unknown) => Err(ApiError::invalid_combination(format!(
            "{} is not a license-included application AppStream offers.",
            crate::error::shorten(unknown)
        ))),
        None => Ok(()),
    }
}

fn staged(status: Status) -> SoftwareRecord {
    SoftwareRecord {
        status,
        transition: None,
    }
}

/// Stages each application for installation; one already associated stays as it is.
pub fn associate_software_to_image_builder(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: AssociateSoftwareToImageBuilderRequest,
) -> Result<AssociateSoftwareToImageBuilderResult, ApiError> {
    check_names(&req.software_names)?;
    let record = state.image_builders.find_mut(&req.image_builder_name)?;
    for name in req.software_names {
        record
            .software
            .entry(name)
            .or_insert_with(|| staged(Status::StagedForInstallation));
    }
    Ok(AssociateSoftwareToImageBuilderResult {})
}

/// Stages each associated application for uninstallation; one never associated is a bad
/// combination (the model lists no not-found error for it).
pub fn disassociate_software_from_image_builder(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DisassociateSoftwareFromImageBuilderRequest,
) -> Result<DisassociateSoftwareFromImageBuilderResult, ApiError> {
    check_names(&req.software_names)?;
    let record = state.image_builders.find_mut(&req.image_builder_name)?;
    if let Some(missing) = req
        .software_names
        .iter()
        .find(|n| !record.software.contains_key(*n))
    {
        return Err(ApiError::invalid_combination(format!(
            "{missing} is not associated with image builder {}.",
            req.image_builder_name
        )));
    }
    for name in &req.software_names {
        let software = record.software.get_mut(name).expect("checked above");
        match software.status {
            // Never deployed: nothing to uninstall.
            Status::StagedForInstallation | Status::FailedToInstall => {
                record.software.remove(name);
            }
            _ => *software = staged(Status::StagedForUninstallation),
        }
    }
    Ok(DisassociateSoftwareFromImageBuilderResult {})
}

/// Deploys what is staged to a RUNNING builder: installations and uninstallations go
/// pending and complete after the transition delay; with `RetryFailedDeployments`, failed
/// ones are tried again.
pub fn start_software_deployment_to_image_builder(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: StartSoftwareDeploymentToImageBuilderRequest,
) -> Result<StartSoftwareDeploymentToImageBuilderResult, ApiError> {
    let record = state.image_builders.find_mut(&req.image_builder_name)?;
    if record.builder.state != Some(ImageBuilderState::Running) {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!(
                "Image builder {} is not RUNNING; software is deployed to a running builder.",
                req.image_builder_name
            ),
        ));
    }
    let retry = req.retry_failed_deployments == Some(true);
    for software in record.software.values_mut() {
        let (pending, then) = match software.status {
            Status::StagedForInstallation => (Status::PendingInstallation, Some(Status::Installed)),
            Status::FailedToInstall if retry => {
                (Status::PendingInstallation, Some(Status::Installed))
            }
            Status::StagedForUninstallation => (Status::PendingUninstallation, None),
            Status::FailedToUninstall if retry => (Status::PendingUninstallation, None),
            _ => continue,
        };
        software.status = pending;
        software.transition = Some(Transition::after_delay(then, ctx));
    }
    Ok(StartSoftwareDeploymentToImageBuilderResult {})
}

/// For an image builder's ARN, its applications and their status; for an image's, the
/// applications installed in it (only images made in a builder have any).
pub fn describe_software_associations(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeSoftwareAssociationsRequest,
) -> Result<DescribeSoftwareAssociationsResult, ApiError> {
    let arn = &req.associated_resource;
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE);
    let token = req.next_token.as_deref();
    let (associations, next_token) = match state.image_builders.find_by_arn(ctx, arn) {
        Ok((_, record)) => page(ctx, token, size, |after: Option<String>| {
            record
                .software
                .iter()
                .filter(move |(name, _)| after.as_ref().is_none_or(|a| *name > a))
                .map(|(name, software)| {
                    let association = SoftwareAssociations {
                        software_name: Some(name.clone()),
                        status: Some(software.status),
                        deployment_error: None,
                    };
                    (name.clone(), association)
                })
        })?,
        Err(not_a_builder) => {
            let (_, image) = state
                .images
                .find_by_arn(ctx, arn)
                .map_err(|_| not_a_builder)?;
            page(ctx, token, size, |after: Option<String>| {
                image
                    .software
                    .iter()
                    .filter(move |name| after.as_ref().is_none_or(|a| *name > a))
                    .map(|name| {
                        let association = SoftwareAssociations {
                            software_name: Some(name.clone()),
                            status: Some(Status::Installed),
                            deployment_error: None,
                        };
                        (name.clone(), association)
                    })
            })?
        }
    };
    Ok(DescribeSoftwareAssociationsResult {
        associated_resource: Some(req.associated_resource),
        software_associations: Some(associations),
        next_token,
    })
}
