//! User-pool users and their stack associations: CreateUser, DescribeUsers, DeleteUser,
//! EnableUser, DisableUser, BatchAssociateUserStack, BatchDisassociateUserStack,
//! DescribeUserStackAssociations.

use crate::config::quotas;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AuthenticationType, BatchAssociateUserStackRequest, BatchAssociateUserStackResult,
    BatchDisassociateUserStackRequest, BatchDisassociateUserStackResult, CreateUserRequest,
    CreateUserResult, DeleteUserRequest, DeleteUserResult, DescribeUserStackAssociationsRequest,
    DescribeUserStackAssociationsResult, DescribeUsersRequest, DescribeUsersResult,
    DisableUserRequest, DisableUserResult, EnableUserRequest, EnableUserResult, MessageAction,
    User, UserStackAssociation, UserStackAssociationError, UserStackAssociationErrorCode,
};
use crate::model::arn::resource_arn;
use crate::request::context::RequestContext;
use crate::request::pagination::{map_after, page, page_size};
use crate::state::associations::Associations;
use crate::state::RegionState;

/// Page size when MaxResults is absent.
const DEFAULT_PAGE_SIZE: usize = 25;

/// The status the model documents for a user who has not yet signed in.
const NEW_USER_STATUS: &str = "UNCONFIRMED";

/// Only user-pool users can be managed through the API.
fn require_userpool(authentication_type: AuthenticationType) -> Result<(), ApiError> {
    if authentication_type == AuthenticationType::Userpool {
        Ok(())
    } else {
        Err(ApiError::modeled(
            ModeledError::InvalidParameterValueException,
            format!(
                "Cannot manage a user with '{}' authentication type; only USERPOOL users can be.",
                authentication_type.as_str()
            ),
        ))
    }
}

pub fn create_user(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateUserRequest,
) -> Result<CreateUserResult, ApiError> {
    require_userpool(req.authentication_type)?;
    if req.message_action == Some(MessageAction::Resend) {
        if req.first_name.is_some() || req.last_name.is_some() {
            return Err(ApiError::invalid_combination(
                "Do not specify FirstName or LastName with MessageAction RESEND.",
            ));
        }
        // Resending the welcome email changes nothing here. CreateUser lists no
        // not-found error, so resending to no one is a bad combination.
        return match state.users.contains_key(&req.user_name) {
            true => Ok(CreateUserResult {}),
            // The user name is sensitive in the model: the message does not repeat it.
            false => Err(ApiError::invalid_combination(
                "MessageAction RESEND needs an existing user; that user is not in the user pool.",
            )),
        };
    }
    state
        .users
        .check_new(&req.user_name, ctx.rules.quota(quotas::USERS_PER_POOL))?;
    let user = User {
        arn: Some(resource_arn(ctx.tenant, "user/userpool", &req.user_name)),
        user_name: Some(req.user_name.clone()),
        enabled: Some(true),
        status: Some(NEW_USER_STATUS.into()),
        first_name: req.first_name,
        last_name: req.last_name,
        created_time: Some(ctx.now),
        authentication_type: AuthenticationType::Userpool,
    };
    state.users.insert(req.user_name, user);
    Ok(CreateUserResult {})
}

pub fn describe_users(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeUsersRequest,
) -> Result<DescribeUsersResult, ApiError> {
    require_userpool(req.authentication_type)?;
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE);
    let (users, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        map_after(&state.users, after).map(|(name, user)| (name, user.clone()))
    })?;
    Ok(DescribeUsersResult {
        users: Some(users),
        next_token,
    })
}

pub fn delete_user(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteUserRequest,
) -> Result<DeleteUserResult, ApiError> {
    require_userpool(req.authentication_type)?;
    state.users.find(&req.user_name)?;
    state.users.remove(&req.user_name, &mut state.tags);
    state.user_stacks.remove_right(&req.user_name);
    Ok(DeleteUserResult {})
}

fn set_enabled(
    state: &mut RegionState,
    user_name: &str,
    authentication_type: AuthenticationType,
    enabled: bool,
) -> Result<(), ApiError> {
    require_userpool(authentication_type)?;
    let user = state.users.find_mut(user_name)?;
    user.enabled = Some(enabled);
    Ok(())
}

pub fn enable_user(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: EnableUserRequest,
) -> Result<EnableUserResult, ApiError> {
    set_enabled(state, &req.user_name, req.authentication_type, true)?;
    Ok(EnableUserResult {})
}

pub fn disable_user(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DisableUserRequest,
) -> Result<DisableUserResult, ApiError> {
    set_enabled(state, &req.user_name, req.authentication_type, false)?;
    Ok(DisableUserResult {})
}

/// Why one entry of a batch cannot be applied, if it cannot.
fn entry_error(
    state: &RegionState,
    entry: &UserStackAssociation,
) -> Option<UserStackAssociationError> {
    let (code, message) = if !state.stacks.contains_key(&entry.stack_name) {
        (
            UserStackAssociationErrorCode::StackNotFound,
            format!("Stack {} does not exist.", entry.stack_name),
        )
    } else if entry.authentication_type != AuthenticationType::Userpool
        || !state.users.contains_key(&entry.user_name)
    {
        (
            UserStackAssociationErrorCode::UserNameNotFound,
            format!("User {} does not exist in the user pool.", entry.user_name),
        )
    } else {
        return None;
    };
    Some(UserStackAssociationError {
        user_stack_association: Some(entry.clone()),
        error_code: Some(code),
        error_message: Some(message),
    })
}

/// Applies `change` to the (stack, user) pairs for every entry that names an existing
/// stack and user; the others come back as the batch's errors.
fn apply_batch(
    state: &mut RegionState,
    entries: Vec<UserStackAssociation>,
    change: impl Fn(&mut Associations, &str, &str),
) -> Vec<UserStackAssociationError> {
    let mut errors = Vec::new();
    for entry in entries {
        match entry_error(state, &entry) {
            Some(error) => errors.push(error),
            None => change(&mut state.user_stacks, &entry.stack_name, &entry.user_name),
        }
    }
    errors
}

pub fn batch_associate_user_stack(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: BatchAssociateUserStackRequest,
) -> Result<BatchAssociateUserStackResult, ApiError> {
    // Documented: user-pool users cannot be assigned to stacks whose fleets join a domain.
    for entry in &req.user_stack_associations {
        let domain_joined = state.fleets_of_stack(&entry.stack_name).any(|fleet| {
            state
                .fleets
                .get(fleet)
                .is_some_and(|r| r.fleet.domain_join_info.is_some())
        });
        if domain_joined {
            return Err(ApiError::modeled(
                ModeledError::OperationNotPermittedException,
                format!(
                    "Users in a user pool cannot be assigned to stack {}: its fleet is joined to an Active Directory domain.",
                    entry.stack_name
                ),
            ));
        }
    }
    let errors = apply_batch(state, req.user_stack_associations, |pairs, stack, user| {
        pairs.insert(stack, user);
    });
    Ok(BatchAssociateUserStackResult {
        errors: Some(errors),
    })
}

pub fn batch_disassociate_user_stack(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: BatchDisassociateUserStackRequest,
) -> Result<BatchDisassociateUserStackResult, ApiError> {
    let errors = apply_batch(state, req.user_stack_associations, |pairs, stack, user| {
        pairs.remove(stack, user);
    });
    Ok(BatchDisassociateUserStackResult {
        errors: Some(errors),
    })
}

pub fn describe_user_stack_associations(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeUserStackAssociationsRequest,
) -> Result<DescribeUserStackAssociationsResult, ApiError> {
    if req.stack_name.is_none() && req.user_name.is_none() {
        return Err(ApiError::invalid_combination(
            "Specify StackName, UserName with AuthenticationType, or both.",
        ));
    }
    if req.user_name.is_some() && req.authentication_type.is_none() {
        return Err(ApiError::invalid_combination(
            "AuthenticationType is required with UserName.",
        ));
    }
    if req
        .authentication_type
        .is_some_and(|t| t != AuthenticationType::Userpool)
    {
        return Ok(DescribeUserStackAssociationsResult {
            user_stack_associations: Some(Vec::new()),
            next_token: None,
        });
    }
    // Pages follow the (stack, user) order of the association set.
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE);
    let (items, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        state
            .user_stacks
            .pairs_after(after)
            .filter(|(stack, user)| {
                req.stack_name.as_ref().is_none_or(|s| s == stack)
                    && req.user_name.as_ref().is_none_or(|u| u == user)
            })
            .map(|(stack, user)| {
                let association = UserStackAssociation {
                    stack_name: stack.clone(),
                    user_name: user.clone(),
                    authentication_type: AuthenticationType::Userpool,
                    send_email_notification: None,
                };
                ((stack.clone(), user.clone()), association)
            })
    })?;
    Ok(DescribeUserStackAssociationsResult {
        user_stack_associations: Some(items),
        next_token,
    })
}
