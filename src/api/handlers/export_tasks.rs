//! CreateExportImageTask, GetExportImageTask, ListExportImageTasks: private images
//! exported to EC2 AMIs. A task is EXPORTING, then COMPLETED with its AMI id.

use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    CreateExportImageTaskRequest, CreateExportImageTaskResult, ExportImageTask,
    ExportImageTaskState, GetExportImageTaskRequest, GetExportImageTaskResult, ImageState,
    ListExportImageTasksRequest, ListExportImageTasksResult,
};
use crate::request::context::RequestContext;
use crate::request::pagination::{map_after, page, page_size};
use crate::state::collection::Collection;
use crate::state::lifecycle::{ExportTaskRecord, ImageRecord, Transition};
use crate::state::RegionState;

/// ListExportImageTasks: "1-500, with a default of 50" (the model's documentation).
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 500;

/// The image must be a private one of this account and AVAILABLE; the AMI name must be
/// new in this account and Region (the model's documentation).
pub fn create_export_image_task(
    ctx: &RequestContext,
    state: &mut RegionState,
    req: CreateExportImageTaskRequest,
) -> Result<CreateExportImageTaskResult, ApiError> {
    let image = match state.images.get(&req.image_name) {
        Some(record) => &record.image,
        None if crate::api::handlers::images::lookup_by_name(
            ctx.added_public_images(),
            ctx.tenant,
            state,
            &req.image_name,
        )
        .is_some() =>
        {
            return Err(ApiError::modeled(
                ModeledError::OperationNotPermittedException,
                format!(
                    "Image {} is owned by AWS; only your own images can be exported.",
                    req.image_name
                ),
            ))
        }
        None => return Err(Collection::<ImageRecord>::not_found(&req.image_name)),
    };
    if image.state != Some(ImageState::Available) {
        return Err(ApiError::modeled(
            ModeledError::ResourceNotAvailableException,
            format!("Image {} is not AVAILABLE.", req.image_name),
        ));
    }
    if state
        .export_tasks
        .values()
        .any(|t| t.task.ami_name == req.ami_name)
    {
        return Err(ApiError::modeled(
            ModeledError::OperationNotPermittedException,
            format!(
                "An AMI named {} already exists in this account and Region.",
                req.ami_name
            ),
        ));
    }
    let task_id = ctx.unique_id().to_string();
    let task = ExportImageTask {
        task_id: task_id.clone(),
        image_arn: image.arn.clone().unwrap_or_default(),
        ami_name: req.ami_name,
        created_date: ctx.now,
        ami_description: req.ami_description,
        state: Some(ExportImageTaskState::Exporting),
        ami_id: None,
        tag_specifications: req.tag_specifications,
        error_details: None,
    };
    let record = ExportTaskRecord {
        task: task.clone(),
        ami_id: format!("ami-{}", ctx.random_suffix(17)),
        transition: Some(Transition::after_delay(
            Some(ExportImageTaskState::Completed),
            ctx,
        )),
        failing: ctx.transition_failure.cloned(),
    };
    state.export_tasks.insert(task_id, record);
    Ok(CreateExportImageTaskResult {
        export_image_task: Some(task),
    })
}

pub fn get_export_image_task(
    _ctx: &RequestContext,
    state: &RegionState,
    req: GetExportImageTaskRequest,
) -> Result<GetExportImageTaskResult, ApiError> {
    let record = state.export_tasks.find(&req.task_id)?;
    Ok(GetExportImageTaskResult {
        export_image_task: Some(record.task.clone()),
    })
}

/// Filters: `state` (task states, e.g. COMPLETED) and `image-arn`; the model names no
/// filters ("such as task state"), so these two are this emulator's choice.
pub fn list_export_image_tasks(
    ctx: &RequestContext,
    state: &RegionState,
    req: ListExportImageTasksRequest,
) -> Result<ListExportImageTasksResult, ApiError> {
    let filters = req.filters.unwrap_or_default();
    if let Some(unknown) = filters
        .iter()
        .find(|f| !matches!(f.name.as_str(), "state" | "image-arn"))
    {
        return Err(ApiError::validation(format!(
            "Unknown filter '{}'; use state or image-arn.",
            crate::error::shorten(&unknown.name)
        )));
    }
    let wanted = |task: &ExportImageTask| {
        filters.iter().all(|f| {
            let value = match f.name.as_str() {
                "state" => task.state.map_or("", |s| s.as_str()).to_string(),
                _ => task.image_arn.clone(),
            };
            f.values.contains(&value)
        })
    };
    let size = page_size(req.max_results, DEFAULT_PAGE_SIZE).min(MAX_PAGE_SIZE);
    let (tasks, next_token) = page(ctx, req.next_token.as_deref(), size, |after| {
        map_after(&state.export_tasks, after)
            .filter(|(_, r)| wanted(&r.task))
            .map(|(id, r)| (id, r.task.clone()))
    })?;
    Ok(ListExportImageTasksResult {
        export_image_tasks: Some(tasks),
        next_token,
    })
}
