//! Images: a built-in catalogue of AWS's public base images, this account's private
//! images, DescribeImages, DeleteImage, CreateUpdatedImage and image permissions.

use std::collections::BTreeMap;

use super::image_catalogue::{all_public, find_public, public_image, PublicImage};
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    CreateUpdatedImageRequest, CreateUpdatedImageResult, DeleteImagePermissionsRequest,
    DeleteImagePermissionsResult, DeleteImageRequest, DeleteImageResult,
    DescribeImagePermissionsRequest, DescribeImagePermissionsResult, DescribeImagesRequest,
    DescribeImagesResult, Image, ImageState, ImageType, SharedImagePermissions,
    UpdateImagePermissionsRequest, UpdateImagePermissionsResult, VisibilityType,
};
use crate::identity::tenant::Tenant;
use crate::model::arn::{resource_arn, Arn};
use crate::request::context::RequestContext;
use crate::request::pagination::{map_after, page, page_size};
use crate::state::lifecycle::{ImageRecord, Transition};
use crate::state::RegionState;
use itertools::Itertools as _;
/// DescribeImages pages at most 25 images (the model's MaxResults bound).
const IMAGES_PAGE_SIZE: usize = 25;

/// DescribeImagePermissions pages at most 500 entries (the model's MaxResults bound).
const PERMISSIONS_PAGE_SIZE: usize = 500;

fn image_not_found(what: &str) -> ApiError {
    ApiError::not_found(format!("The image {what} does not exist."))
}

/// What an image is wanted for: a share grants each use separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageUse {
    Fleet,
    ImageBuilder,
}

/// The image a fleet or image builder names, by name or ARN (exactly one of them): this
/// account's, AWS's, or, by its owner's ARN, one another account of the Region shared for
/// this use. It must be available.
pub fn resolve_image(
    ctx: &RequestContext,
    state: &RegionState,
    others: &[(&Tenant, &RegionState)],
    name: Option<&str>,
    arn: Option<&str>,
    wanted_for: ImageUse,
) -> Result<Image, ApiError> {
    let image = match (name, arn) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_combination(
                "Specify either ImageName or ImageArn, not both.",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid_combination(
                "Either ImageName or ImageArn is required.",
            ))
        }
        (Some(name), None) => lookup_by_name(ctx.added_public_images(), ctx.tenant, state, name),
        (None, Some(arn)) => match lookup_by_arn(ctx.added_public_images(), ctx.tenant, state, arn)
        {
            Some(own) => Some(own),
            None => shared_for(ctx.tenant, others, arn, wanted_for)?,
        },
    }
    .ok_or_else(|| image_not_found(name.or(arn).unwrap_or_default()))?;
    if image.state != Some(ImageState::Available) {
        return Err(ApiError::modeled(
            ModeledError::ResourceNotAvailableException,
            format!("The image {} is not available yet.", image.name),
        ));
    }
    Ok(image)
}

/// The image at `arn` that another account shared with this one, if it did; refused when
/// the share does not allow `wanted_for`.
fn shared_for(
    tenant: &Tenant,
    others: &[(&Tenant, &RegionState)],
    arn: &str,
    wanted_for: ImageUse,
) -> Result<Option<Image>, ApiError> {
    let Some(image) = shared_at(tenant, others, arn) else {
        return Ok(None);
    };
    let permissions = image.image_permissions.clone().unwrap_or_default();
    let (allowed, what) = match wanted_for {
        ImageUse::Fleet => (permissions.allow_fleet, "fleets"),
        ImageUse::ImageBuilder => (permissions.allow_image_builder, "image builders"),
    };
    if allowed != Some(true) {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!(
                "The image {arn} is shared with account {} without permission to create {what}.",
                tenant.account
            ),
        ));
    }
    Ok(Some(image))
}

/// Any image this account can see at `arn`: its own, AWS's, or one shared with it.
pub fn lookup_visible(
    added: &[PublicImage],
    tenant: &Tenant,
    state: &RegionState,
    others: &[(&Tenant, &RegionState)],
    arn: &str,
) -> Option<Image> {
    lookup_by_arn(added, tenant, state, arn).or_else(|| shared_at(tenant, others, arn))
}

/// The image at `arn` if another account of the Region shared it with this one.
fn shared_at(tenant: &Tenant, others: &[(&Tenant, &RegionState)], arn: &str) -> Option<Image> {
    shared_with(tenant, others)
        .into_iter()
        .find(|(_, image)| image.arn.as_deref() == Some(arn))
        .map(|(_, image)| image)
}

/// An image of this account or the public catalogue, by name.
pub fn lookup_by_name(
    added: &[PublicImage],
    tenant: &Tenant,
    state: &RegionState,
    name: &str,
) -> Option<Image> {
    state
        .images
        .get(name)
        .map(|r| r.image.clone())
        .or_else(|| find_public(added, tenant, name))
}

pub fn lookup_by_arn(
    added: &[PublicImage],
    tenant: &Tenant,
    state: &RegionState,
    arn: &str,
) -> Option<Image> {
    let parsed = Arn::parse(arn).filter(|a| a.resource_type == "image")?;
    if parsed.region != tenant.region {
        return None;
    }
    if parsed.account.is_empty() {
        find_public(added, tenant, &parsed.name)
    } else if parsed.account == tenant.account {
        state.images.get(&parsed.name).map(|r| r.image.clone())
    } else {
        None
    }
}

/// The images other accounts of this Region share with the caller, as it sees them:
/// SHARED, with the permissions it was given, in (name, owner) order.
fn shared_with(tenant: &Tenant, others: &[(&Tenant, &RegionState)]) -> Vec<(ImageKey, Image)> {
    let mut shared: Vec<(ImageKey, Image)> = others
        .iter()
        .flat_map(|(owner, state)| {
            state.image_permissions.iter().filter_map(|(name, shares)| {
                let permissions = shares.get(&tenant.account)?;
                let mut image = state.images.get(name)?.image.clone();
                image.visibility = Some(VisibilityType::Shared);
                image.image_permissions = Some(permissions.clone());
                Some(((name.clone(), owner.account.clone()), image))
            })
        })
        .collect();
    shared.sort_by(|a, b| a.0.cmp(&b.0));
    shared
}

/// Images page by name, then owner: a shared image may bear the name of one of the
/// caller's. Public images have no owner ("").
type ImageKey = (String, String);

/// The owner part of an image's key.
fn owner_of(image: &Image) -> String {
    image
        .arn
        .as_deref()
        .and_then(Arn::parse)
        .map(|arn| arn.account)
        .unwrap_or_default()
}

pub fn describe_images(
    ctx: &RequestContext,
    state: &RegionState,
    others: &[(&Tenant, &RegionState)],
    req: DescribeImagesRequest,
) -> Result<DescribeImagesResult, ApiError> {
    if req.names.is_some() && req.arns.is_some() {
        return Err(ApiError::invalid_combination(
            "Specify either Names or Arns, not both.",
        ));
    }
    let tenant = ctx.tenant;
    let wanted = |image: &Image| req.r#type.is_none_or(|t| image.visibility == Some(t));
    let size = page_size(req.max_results, IMAGES_PAGE_SIZE);
    let token = req.next_token.as_deref();
    let shared = shared_with(tenant, others);
    let (images, next_token) = match (&req.names, &req.arns) {
        (None, None) => {
            // Public and private names never collide (CreateUpdatedImage refuses a
            // public name), so the three sorted sources merge into one order.
            page(ctx, token, size, |after: Option<ImageKey>| {
                let is_after = move |key: &ImageKey| after.as_ref().is_none_or(|a| key > a);
                let is_after = std::rc::Rc::new(is_after);
                let (after_public, after_shared) = (is_after.clone(), is_after.clone());
                let public = all_public(ctx.added_public_images())
                    .map(|entry| ((entry.name.to_string(), String::new()), entry))
                    .filter(move |(key, _)| after_public(key))
                    .map(|(key, entry)| (key, public_image(tenant, entry)));
                let private = state.images.iter().map(|(name, record)| {
                    ((name.clone(), tenant.account.clone()), record.image.clone())
                });
                let private = private.filter(move |(key, _)| is_after(key));
                let shared = shared.into_iter().filter(move |(key, _)| after_shared(key));
                public
                    .merge_by(private, |a, b| a.0 < b.0)
                    .merge_by(shared, |a, b| a.0 < b.0)
                    .filter(|(_, image)| wanted(image))
            })?
        }
        _ => {
            // The images asked for, each once, in (name, owner) order. A name is this
            // account's or AWS's first, then a shared image's.
            let asked = match (&req.names, &req.arns) {
                (Some(names), _) => names
                    .iter()
                    .map(|n| {
                        lookup_by_name(ctx.added_public_images(), tenant, state, n)
                            .or_else(|| {
                                shared
                                    .iter()
                                    .find(|(_, image)| image.name == *n)
                                    .map(|(_, image)| image.clone())
                            })
                            .ok_or_else(|| image_not_found(n))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                (_, arns) => arns
                    .iter()
                    .flatten()
                    .map(|a| {
                        lookup_visible(ctx.added_public_images(), tenant, state, others, a)
                            .ok_or_else(|| image_not_found(a))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            };
            let mut asked: Vec<(ImageKey, Image)> = asked
                .into_iter()
                .map(|image| ((image.name.clone(), owner_of(&image)), image))
                .collect();
            asked.sort_by(|a, b| a.0.cmp(&b.0));
            asked.dedup_by(|a, b| a.0 == b.0);
            page(ctx, token, size, |after: Option<ImageKey>| {
                asked
                    .into_iter()
                    .filter(move |(key, _)| after.as_ref().is_none_or(|a| key > a))
                    .filter(|(_, image)| wanted(image))
            })?
        }
    };
    Ok(DescribeImagesResult {
        images: Some(images),
        next_token,
    })
}

/// A private image of this account. The image-permission operations list no error for
/// a public image, so for them it is one this account does not have.
fn private_image<'a>(
    ctx: &RequestContext,
    state: &'a RegionState,
    name: &str,
) -> Result<&'a ImageRecord, ApiError> {
    match state.images.get(name) {
        Some(record) => Ok(record),
        None if find_public(ctx.added_public_images(), ctx.tenant, name).is_some() => {
            Err(ApiError::not_found(format!(
            "The image {name} is a public image owned by AWS, not a private image of this account."
        )))
        }
        None => Err(image_not_found(name)),
    }
}

pub fn delete_image(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteImageRequest,
) -> Result<DeleteImageResult, ApiError> {
    if !state.images.contains_key(&req.name)
        && find_public(ctx.added_public_images(), ctx.tenant, &req.name).is_some()
    {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!("The image {} is a public image owned by AWS.", req.name),
        ));
    }
    let record = private_image(ctx, state, &req.name)?;
    let in_use = state
        .fleets
        .values()
        .any(|f| f.fleet.image_arn.is_some() && f.fleet.image_arn == record.image.arn)
        || state
            .image_builders
            .values()
            .any(|b| b.builder.image_arn == record.image.arn);
    if in_use {
        return Err(ApiError::in_use(format!(
            "The image {} is in use by a fleet or image builder.",
            req.name
        )));
    }
    let mut image = record.image.clone();
    image.state = Some(ImageState::Deleting);
    state.images.remove(&req.name, &mut state.tags);
    state.image_permissions.remove(&req.name);
    Ok(DeleteImageResult { image: Some(image) })
}

pub fn create_updated_image(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateUpdatedImageRequest,
) -> Result<CreateUpdatedImageResult, ApiError> {
    let existing = lookup_by_name(
        ctx.added_public_images(),
        ctx.tenant,
        state,
        &req.existing_image_name,
    )
    .ok_or_else(|| image_not_found(&req.existing_image_name))?;
    if req.dry_run == Some(true) {
        return Ok(CreateUpdatedImageResult {
            image: Some(existing),
            can_update_image: Some(true),
        });
    }
    if lookup_by_name(
        ctx.added_public_images(),
        ctx.tenant,
        state,
        &req.new_image_name,
    )
    .is_some()
    {
        return Err(ApiError::already_exists(format!(
            "The image {} already exists.",
            req.new_image_name
        )));
    }
    // An update keeps the license-included applications of a private image.
    let existing_software = state
        .images
        .get(&req.existing_image_name)
        .map(|record| record.software.clone())
        .unwrap_or_default();
    let arn = resource_arn(ctx.tenant, "image", &req.new_image_name);
    let image = Image {
        name: req.new_image_name.clone(),
        arn: Some(arn.clone()),
        base_image_arn: existing.arn.clone(),
        display_name: req.new_image_display_name,
        description: req.new_image_description,
        state: Some(ImageState::Pending),
        visibility: Some(VisibilityType::Private),
        image_builder_supported: Some(true),
        platform: existing.platform,
        created_time: Some(ctx.now),
        public_base_image_released_date: existing.public_base_image_released_date,
        image_type: Some(ImageType::Custom),
        supported_instance_families: existing.supported_instance_families.clone(),
        managed_software_included: existing.managed_software_included,
        ..Default::default()
    };
    state.images.insert(
        req.new_image_name,
        ImageRecord {
            image: image.clone(),
            transition: Some(Transition::after_delay(Some(ImageState::Available), ctx)),
            failing: ctx.transition_failure.cloned(),
            software: existing_software,
        },
    );
    if let Some(tags) = req.new_image_tags {
        state.tags.merge(&arn, tags);
    }
    Ok(CreateUpdatedImageResult {
        image: Some(image),
        can_update_image: Some(true),
    })
}

pub fn update_image_permissions(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: UpdateImagePermissionsRequest,
) -> Result<UpdateImagePermissionsResult, ApiError> {
    private_image(ctx, state, &req.name)?;
    if req.shared_account_id == ctx.tenant.account {
        // UpdateImagePermissions lists no error for it; a bad value is a validation error.
        return Err(ApiError::validation(
            "An image cannot be shared with the account that owns it.",
        ));
    }
    state
        .image_permissions
        .entry(req.name)
        .or_default()
        .insert(req.shared_account_id, req.image_permissions);
    Ok(UpdateImagePermissionsResult {})
}

pub fn describe_image_permissions(
    ctx: &RequestContext,
    state: &RegionState,
    req: DescribeImagePermissionsRequest,
) -> Result<DescribeImagePermissionsResult, ApiError> {
    private_image(ctx, state, &req.name)?;
    let no_shares = BTreeMap::new();
    let shares = state.image_permissions.get(&req.name).unwrap_or(&no_shares);
    let wanted = |account: &String| {
        req.shared_aws_account_ids
            .as_ref()
            .is_none_or(|w| w.contains(account))
    };
    let size = page_size(req.max_results, PERMISSIONS_PAGE_SIZE);
    let (list, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        map_after(shares, after)
            .filter(|(account, _)| wanted(account))
            .map(|(account, perms)| {
                let entry = SharedImagePermissions {
                    shared_account_id: account.clone(),
                    image_permissions: perms.clone(),
                };
                (account, entry)
            })
    })?;
    Ok(DescribeImagePermissionsResult {
        name: Some(req.name),
        shared_image_permissions_list: Some(list),
        next_token,
    })
}

pub fn delete_image_permissions(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: DeleteImagePermissionsRequest,
) -> Result<DeleteImagePermissionsResult, ApiError> {
    private_image(ctx, state, &req.name)?;
    let removed = state
        .image_permissions
        .get_mut(&req.name)
        .and_then(|shares| shares.remove(&req.shared_account_id));
    if removed.is_none() {
        return Err(ApiError::not_found(format!(
            "The image {} is not shared with account {}.",
            req.name, req.shared_account_id
        )));
    }
    Ok(DeleteImagePermissionsResult {})
}
