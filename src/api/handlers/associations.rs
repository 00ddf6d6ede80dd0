//! AssociateFleet, DisassociateFleet, ListAssociatedFleets, ListAssociatedStacks.

use crate::error::ApiError;
use crate::generated::types::{
    AssociateFleetRequest, AssociateFleetResult, DisassociateFleetRequest, DisassociateFleetResult,
    ListAssociatedFleetsRequest, ListAssociatedFleetsResult, ListAssociatedStacksRequest,
    ListAssociatedStacksResult,
};
use crate::request::context::RequestContext;
use crate::request::pagination::page;
use crate::state::RegionState;

/// Names per ListAssociated* page; the model has no MaxResults for them.
const NAMES_PAGE_SIZE: usize = 25;

fn check_both_exist(state: &RegionState, stack: &str, fleet: &str) -> Result<(), ApiError> {
    state.stacks.find(stack)?;
    state.fleets.find(fleet)?;
    Ok(())
}

pub fn associate_fleet(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: AssociateFleetRequest,
) -> Result<AssociateFleetResult, ApiError> {
    check_both_exist(state, &req.stack_name, &req.fleet_name)?;
    // Associating an associated pair again changes nothing.
    state.fleet_stacks.insert(&req.stack_name, &req.fleet_name);
    Ok(AssociateFleetResult {})
}

pub fn disassociate_fleet(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DisassociateFleetRequest,
) -> Result<DisassociateFleetResult, ApiError> {
    check_both_exist(state, &req.stack_name, &req.fleet_name)?;
    let pair = (req.stack_name, req.fleet_name);
    if !state.fleet_stacks.remove(&pair.0, &pair.1) {
        return Err(ApiError::not_found(format!(
            "Fleet {} is not associated with stack {}.",
            pair.1, pair.0
        )));
    }
    // Sessions streamed through this pair end with it.
    state
        .sessions
        .retain(|_, s| !(s.stack_name == pair.0 && s.fleet_name == pair.1));
    Ok(DisassociateFleetResult {})
}

/// One page of `names`, which come in name order, as the list operations return them.
fn names_page<'a>(
    ctx: &RequestContext,
    names: impl Iterator<Item = &'a str>,
    token: Option<&str>,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    page(ctx, token, NAMES_PAGE_SIZE, |after: Option<String>| {
        names
            .filter(move |name| after.as_deref().is_none_or(|a| *name > a))
            .map(|name| (name.to_string(), name.to_string()))
    })
}

/// The model lists no errors for this operation: an unknown stack has no fleets.
pub fn list_associated_fleets(
    ctx: &RequestContext,
    state: &RegionState,
    req: ListAssociatedFleetsRequest,
) -> Result<ListAssociatedFleetsResult, ApiError> {
    let (names, next_token) = names_page(
        ctx,
        state.fleets_of_stack(&req.stack_name),
        req.next_token.as_deref(),
    )?;
    Ok(ListAssociatedFleetsResult {
        names: Some(names),
        next_token,
    })
}

pub fn list_associated_stacks(
    ctx: &RequestContext,
    state: &RegionState,
    req: ListAssociatedStacksRequest,
) -> Result<ListAssociatedStacksResult, ApiError> {
    let (names, next_token) = names_page(
        ctx,
        state.stacks_of_fleet(&req.fleet_name),
        req.next_token.as_deref(),
    )?;
    Ok(ListAssociatedStacksResult {
        names: Some(names),
        next_token,
    })
}
