//! CreateThemeForStack, DescribeThemeForStack, UpdateThemeForStack, DeleteThemeForStack:
//! one theme per stack, which the stack's streaming page shows.

use crate::api::handlers::s3_locations::object_url;
use crate::error::ApiError;
use crate::generated::types::{
    CreateThemeForStackRequest, CreateThemeForStackResult, DeleteThemeForStackRequest,
    DeleteThemeForStackResult, DescribeThemeForStackRequest, DescribeThemeForStackResult, Theme,
    ThemeAttribute, ThemeState, UpdateThemeForStackRequest, UpdateThemeForStackResult,
};
use crate::request::context::RequestContext;
use crate::state::RegionState;

pub fn create_theme_for_stack(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateThemeForStackRequest,
) -> Result<CreateThemeForStackResult, ApiError> {
    state.stacks.find(&req.stack_name)?;
    state.themes.check_new(&req.stack_name, None)?;
    let theme = Theme {
        stack_name: Some(req.stack_name.clone()),
        state: Some(ThemeState::Enabled),
        theme_title_text: Some(req.title_text),
        theme_styling: Some(req.theme_styling),
        theme_footer_links: req.footer_links,
        theme_organization_logo_url: Some(object_url(ctx, &req.organization_logo_s3_location)),
        theme_favicon_url: Some(object_url(ctx, &req.favicon_s3_location)),
        created_time: Some(ctx.now),
    };
    state.themes.insert(req.stack_name, theme.clone());
    Ok(CreateThemeForStackResult { theme: Some(theme) })
}

/// A stack without a theme answers no theme (AWS does not document this case).
pub fn describe_theme_for_stack(
    _ctx: &RequestContext,
    state: &RegionState,
    req: DescribeThemeForStackRequest,
) -> Result<DescribeThemeForStackResult, ApiError> {
    state.stacks.find(&req.stack_name)?;
    Ok(DescribeThemeForStackResult {
        theme: state.themes.get(&req.stack_name).cloned(),
    })
}

/// Changes only the members given; `AttributesToDelete: [FOOTER_LINKS]` removes the links.
pub fn update_theme_for_stack(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateThemeForStackRequest,
) -> Result<UpdateThemeForStackResult, ApiError> {
    state.stacks.find(&req.stack_name)?;
    let delete_links = req
        .attributes_to_delete
        .iter()
        .flatten()
        .any(|a| *a == ThemeAttribute::FooterLinks);
    if delete_links && req.footer_links.is_some() {
        return Err(ApiError::invalid_combination(
            "Do not give FooterLinks while deleting FOOTER_LINKS.",
        ));
    }
    let theme = state.themes.find_mut(&req.stack_name)?;
    if delete_links {
        theme.theme_footer_links = None;
    }
    if let Some(links) = req.footer_links {
        theme.theme_footer_links = Some(links);
    }
    if let Some(title) = req.title_text {
        theme.theme_title_text = Some(title);
    }
    if let Some(styling) = req.theme_styling {
        theme.theme_styling = Some(styling);
    }
    if let Some(location) = &req.organization_logo_s3_location {
        theme.theme_organization_logo_url = Some(object_url(ctx, location));
    }
    if let Some(location) = &req.favicon_s3_location {
        theme.theme_favicon_url = Some(object_url(ctx, location));
    }
    if let Some(theme_state) = req.state {
        theme.state = Some(theme_state);
    }
    Ok(UpdateThemeForStackResult {
        theme: Some(theme.clone()),
    })
}

pub fn delete_theme_for_stack(
    _ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteThemeForStackRequest,
) -> Result<DeleteThemeForStackResult, ApiError> {
    state.stacks.find(&req.stack_name)?;
    state.themes.find(&req.stack_name)?;
    state.themes.remove(&req.stack_name, &mut state.tags);
    Ok(DeleteThemeForStackResult {})
}
