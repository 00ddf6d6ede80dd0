//! AssociateApplicationFleet, DisassociateApplicationFleet,
//! DescribeApplicationFleetAssociations: which applications an Elastic fleet offers.

use crate::api::handlers::instance_types;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    ApplicationFleetAssociation, AssociateApplicationFleetRequest, AssociateApplicationFleetResult,
    DescribeApplicationFleetAssociationsRequest, DescribeApplicationFleetAssociationsResult,
    DisassociateApplicationFleetRequest, DisassociateApplicationFleetResult, FleetType,
};
use crate::request::context::RequestContext;
use crate::request::pagination::{page, page_size};
use crate::state::RegionState;

/// DescribeApplicationFleetAssociations answers at most 25 (the output list's bound).
const PAGE_SIZE: usize = 25;

pub fn associate_application_fleet(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: AssociateApplicationFleetRequest,
) -> Result<AssociateApplicationFleetResult, ApiError> {
    let fleet = &state.fleets.find(&req.fleet_name)?.fleet;
    let (_, app) = state.applications.find_by_arn(ctx, &req.application_arn)?;
    if fleet.fleet_type != Some(FleetType::Elastic) {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!(
                "Fleet {} is not an Elastic fleet; applications are only for Elastic fleets.",
                fleet.name
            ),
        ));
    }
    let platforms = app.platforms.as_deref().unwrap_or_default();
    if !fleet.platform.is_some_and(|p| platforms.contains(&p)) {
        return Err(ApiError::invalid_combination(format!(
            "The application does not support fleet {}'s platform.",
            fleet.name
        )));
    }
    let family = instance_types::family(&fleet.instance_type).unwrap_or_default();
    let families = app.instance_families.as_deref().unwrap_or_default();
    if !families.iter().any(|f| f == family) {
        return Err(ApiError::invalid_combination(format!(
            "The application does not support the instance family of fleet {} ({family}).",
            fleet.name
        )));
    }
    // Associating an associated pair again changes nothing.
    state
        .application_fleets
        .insert(&req.fleet_name, &req.application_arn);
    Ok(AssociateApplicationFleetResult {
        application_fleet_association: Some(ApplicationFleetAssociation {
            fleet_name: req.fleet_name,
            application_arn: req.application_arn,
        }),
    })
}

/// The model lists no not-found error here: a pair that is not associated is a bad
/// combination.
pub fn disassociate_application_fleet(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DisassociateApplicationFleetRequest,
) -> Result<DisassociateApplicationFleetResult, ApiError> {
    if !state
        .application_fleets
        .remove(&req.fleet_name, &req.application_arn)
    {
        return Err(ApiError::invalid_combination(format!(
            "Application {} is not associated with fleet {}.",
            req.application_arn, req.fleet_name
        )));
    }
    Ok(DisassociateApplicationFleetResult {})
}

pub fn describe_application_fleet_associations(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeApplicationFleetAssociationsRequest,
) -> Result<DescribeApplicationFleetAssociationsResult, ApiError> {
    if req.fleet_name.is_none() && req.application_arn.is_none() {
        return Err(ApiError::invalid_combination(
            "Either ApplicationArn or FleetName must be given.",
        ));
    }
    let size = page_size(req.max_results, PAGE_SIZE).min(PAGE_SIZE);
    let (associations, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        state
            .application_fleets
            .pairs_after(after)
            .filter(|(fleet, app)| {
                req.fleet_name.as_ref().is_none_or(|f| f == fleet)
                    && req.application_arn.as_ref().is_none_or(|a| a == app)
            })
            .map(|(fleet, app)| {
                let association = ApplicationFleetAssociation {
                    fleet_name: fleet.clone(),
                    application_arn: app.clone(),
                };
                ((fleet.clone(), app.clone()), association)
            })
    })?;
    Ok(DescribeApplicationFleetAssociationsResult {
        application_fleet_associations: Some(associations),
        next_token,
    })
}
