//! CreateEntitlement, DescribeEntitlements, UpdateEntitlement, DeleteEntitlement,
//! AssociateApplicationToEntitlement, DisassociateApplicationFromEntitlement,
//! ListEntitledApplications: which applications SAML users of a stack are entitled to.
//! An entitlement is keyed by its stack and name.

use crate::error::ApiError;
use crate::generated::types::{
    AssociateApplicationToEntitlementRequest, AssociateApplicationToEntitlementResult,
    CreateEntitlementRequest, CreateEntitlementResult, DeleteEntitlementRequest,
    DeleteEntitlementResult, DescribeEntitlementsRequest, DescribeEntitlementsResult,
    DisassociateApplicationFromEntitlementRequest, DisassociateApplicationFromEntitlementResult,
    EntitledApplication, Entitlement, ListEntitledApplicationsRequest,
    ListEntitledApplicationsResult, UpdateEntitlementRequest, UpdateEntitlementResult,
};
use crate::request::context::RequestContext;
use crate::request::pagination::{map_after, page, page_size};
use crate::state::RegionState;

/// Pages hold this many when MaxResults is not given (AWS documents no default).
const DEFAULT_PAGE_SIZE: usize = 25;

/// The collection's key: a stack name has no `/`, so keys sort by stack, then name.
pub fn entitlement_key(stack: &str, name: &str) -> String {
    format!("{stack}/{name}")
}

/// The stack must exist, then the entitlement in it.
fn existing<'a>(
    state: &'a RegionState,
    stack: &str,
    name: &str,
) -> Result<&'a Entitlement, ApiError> {
    state.stacks.find(stack)?;
    state.entitlements.find(&entitlement_key(stack, name))
}

pub fn create_entitlement(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateEntitlementRequest,
) -> Result<CreateEntitlementResult, ApiError> {
    state.stacks.find(&req.stack_name)?;
    let key = entitlement_key(&req.stack_name, &req.name);
    state.entitlements.check_new(&key, None)?;
    let entitlement = Entitlement {
        name: req.name,
        stack_name: req.stack_name,
        description: req.description,
        app_visibility: req.app_visibility,
        attributes: req.attributes,
        created_time: Some(ctx.now),
        last_modified_time: Some(ctx.now),
    };
    state.entitlements.insert(key, entitlement.clone());
    Ok(CreateEntitlementResult {
        entitlement: Some(entitlement),
    })
}

/// With a Name, that entitlement (not found when missing, as Terraform expects of a
/// deleted one); without, a page of the stack's entitlements.
pub fn describe_entitlements(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeEntitlementsRequest,
) -> Result<DescribeEntitlementsResult, ApiError> {
    state.stacks.find(&req.stack_name)?;
    if let Some(name) = &req.name {
        let key = entitlement_key(&req.stack_name, name);
        let found = state.entitlements.get(&key).ok_or_else(|| {
            ApiError::not_found(format!(
                "Entitlement {name} does not exist in stack {}.",
                req.stack_name
            ))
        })?;
        return Ok(DescribeEntitlementsResult {
            entitlements: Some(vec![found.clone()]),
            next_token: None,
        });
    }
    let prefix = entitlement_key(&req.stack_name, "");
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE);
    let (entitlements, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        let start = after.or_else(|| Some(prefix.clone()));
        map_after(&state.entitlements, start)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(key, e)| (key, e.clone()))
    })?;
    Ok(DescribeEntitlementsResult {
        entitlements: Some(entitlements),
        next_token,
    })
}

/// Changes only the members given.
pub fn update_entitlement(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateEntitlementRequest,
) -> Result<UpdateEntitlementResult, ApiError> {
    existing(state, &req.stack_name, &req.name)?;
    let key = entitlement_key(&req.stack_name, &req.name);
    let entitlement = state.entitlements.find_mut(&key)?;
    if let Some(description) = req.description {
        entitlement.description = Some(description);
    }
    if let Some(visibility) = req.app_visibility {
        entitlement.app_visibility = visibility;
    }
    if let Some(attributes) = req.attributes {
        entitlement.attributes = attributes;
    }
    entitlement.last_modified_time = Some(ctx.now);
    Ok(UpdateEntitlementResult {
        entitlement: Some(entitlement.clone()),
    })
}

pub fn delete_entitlement(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteEntitlementRequest,
) -> Result<DeleteEntitlementResult, ApiError> {
    existing(state, &req.stack_name, &req.name)?;
    let key = entitlement_key(&req.stack_name, &req.name);
    state.entitlements.remove(&key, &mut state.tags);
    state.entitled_applications.remove_left(&key);
    Ok(DeleteEntitlementResult {})
}

/// The identifier is taken as given: an Elastic fleet's application name, or an image's
/// catalogue application, which this emulator does not model.
pub fn associate_application_to_entitlement(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: AssociateApplicationToEntitlementRequest,
) -> Result<AssociateApplicationToEntitlementResult, ApiError> {
    existing(state, &req.stack_name, &req.entitlement_name)?;
    let key = entitlement_key(&req.stack_name, &req.entitlement_name);
    state
        .entitled_applications
        .insert(&key, &req.application_identifier);
    Ok(AssociateApplicationToEntitlementResult {})
}

pub fn disassociate_application_from_entitlement(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DisassociateApplicationFromEntitlementRequest,
) -> Result<DisassociateApplicationFromEntitlementResult, ApiError> {
    existing(state, &req.stack_name, &req.entitlement_name)?;
    let key = entitlement_key(&req.stack_name, &req.entitlement_name);
    if !state
        .entitled_applications
        .remove(&key, &req.application_identifier)
    {
        return Err(ApiError::not_found(format!(
            "Application {} is not associated with entitlement {}.",
            req.application_identifier, req.entitlement_name
        )));
    }
    Ok(DisassociateApplicationFromEntitlementResult {})
}

pub fn list_entitled_applications(
    ctx: &RequestContext,
    state: &RegionState,
    req: ListEntitledApplicationsRequest,
) -> Result<ListEntitledApplicationsResult, ApiError> {
    existing(state, &req.stack_name, &req.entitlement_name)?;
    let key = entitlement_key(&req.stack_name, &req.entitlement_name);
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE);
    let (applications, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        state
            .entitled_applications
            .rights_of(&key)
            .filter(move |app| after.as_deref().is_none_or(|a| *app > a))
            .map(|app| {
                let entry = EntitledApplication {
                    application_identifier: app.to_string(),
                };
                (app.to_string(), entry)
            })
    })?;
    Ok(ListEntitledApplicationsResult {
        entitled_applications: Some(applications),
        next_token,
    })
}
