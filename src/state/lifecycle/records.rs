//! The records of the resources with a lifecycle: each family's API description, its
//! transition under way, and its actions as tables.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AppBlockBuilder, AppBlockBuilderState, ComputeCapacityStatus, ErrorDetails, ExportImageTask,
    ExportImageTaskState, Fleet, FleetError, FleetState, Image, ImageBuilder, ImageBuilderState,
    ImageBuilderStateChangeReason, ImageBuilderStateChangeReasonCode, ImageState,
    ImageStateChangeReason, ImageStateChangeReasonCode, SoftwareDeploymentStatus,
};
use crate::request::context::TransitionFailure;
use crate::state::collection::{Resource, Settled};

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetRecord {
    pub fleet: Fleet,
    pub transition: Option<Transition<FleetState>>,
    /// Set while a transition is under way that a fault rule makes fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<TransitionFailure>,
}

/// StartFleet and StopFleet.
pub const START_FLEET: Action<FleetState> = Action {
    done: "started",
    from: &[FleetState::Stopped],
    during: FleetState::Starting,
    then: Some(FleetState::Running),
    unchanged_in: &[FleetState::Starting, FleetState::Running],
    otherwise: ModeledError::ConcurrentModificationException,
};

pub const STOP_FLEET: Action<FleetState> = Action {
    done: "stopped",
    from: &[FleetState::Starting, FleetState::Running],
    during: FleetState::Stopping,
    then: Some(FleetState::Stopped),
    unchanged_in: &[FleetState::Stopping, FleetState::Stopped],
    otherwise: ModeledError::ConcurrentModificationException,
};

impl Lifecycle for FleetRecord {
    type State = FleetState;

    fn state(&self) -> Option<FleetState> {
        Some(self.fleet.state)
    }

    /// Moves to `state` and keeps the capacity figures consistent with it: a running
    /// fleet has its desired capacity up and available, a stopped one has none.
    fn set_state(&mut self, state: FleetState) {
        self.fleet.state = state;
        if state == FleetState::Running {
            // A start that succeeds clears the errors of one that failed.
            self.fleet.fleet_errors = None;
        }
        let status = &mut self.fleet.compute_capacity_status;
        let up = if state == FleetState::Running {
            status.desired
        } else {
            0
        };
        let in_use = status.in_use.unwrap_or(0).min(up);
        *status = ComputeCapacityStatus {
            desired: status.desired,
            running: Some(up),
            in_use: Some(in_use),
            available: Some(up - in_use),
            ..status.clone()
        };
    }

    fn transition(&self) -> &Option<Transition<FleetState>> {
        &self.transition
    }

    fn transition_mut(&mut self) -> &mut Option<Transition<FleetState>> {
        &mut self.transition
    }

    fn failing_mut(&mut self) -> &mut Option<TransitionFailure> {
        &mut self.failing
    }

    fn fail(&mut self, failure: TransitionFailure, _at: f64) {
        // The fleet goes back to STOPPED and says why (FleetStarted waiters stop there).
        self.set_state(FleetState::Stopped);
        self.fleet.fleet_errors = Some(vec![FleetError {
            error_code: Some(fleet_error_code(&failure)),
            error_message: Some(failure.message),
        }]);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageBuilderRecord {
    pub builder: ImageBuilder,
    pub transition: Option<Transition<ImageBuilderState>>,
    /// Set while a transition is under way that a fault rule makes fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<TransitionFailure>,
    /// License-included applications by name, with their deployment status; they go with
    /// the builder.
    #[serde(default)]
    pub software: BTreeMap<String, SoftwareRecord>,
}

/// One license-included application of an image builder. A transition to no status is
/// an uninstallation that ends the association.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SoftwareRecord {
    pub status: SoftwareDeploymentStatus,
    pub transition: Option<Transition<SoftwareDeploymentStatus>>,
}

/// StartImageBuilder, StopImageBuilder and DeleteImageBuilder.
pub const START_IMAGE_BUILDER: Action<ImageBuilderState> = Action {
    done: "started",
    from: &[ImageBuilderState::Stopped],
    during: ImageBuilderState::Pending,
    then: Some(ImageBuilderState::Running),
    unchanged_in: &[ImageBuilderState::Pending, ImageBuilderState::Running],
    otherwise: ModeledError::ResourceNotAvailableException,
};

pub const STOP_IMAGE_BUILDER: Action<ImageBuilderState> = Action {
    done: "stopped",
    from: &[ImageBuilderState::Running],
    during: ImageBuilderState::Stopping,
    then: Some(ImageBuilderState::Stopped),
    unchanged_in: &[ImageBuilderState::Stopping, ImageBuilderState::Stopped],
    otherwise: ModeledError::OperationNotPermittedException,
};

pub const DELETE_IMAGE_BUILDER: Action<ImageBuilderState> = Action {
    done: "deleted",
    from: &[
        ImageBuilderState::Running,
        ImageBuilderState::Stopped,
        ImageBuilderState::Failed,
    ],
    during: ImageBuilderState::Deleting,
    then: None,
    unchanged_in: &[ImageBuilderState::Deleting],
    otherwise: ModeledError::OperationNotPermittedException,
};

impl Lifecycle for ImageBuilderRecord {
    type State = ImageBuilderState;

    fn state(&self) -> Option<ImageBuilderState> {
        self.builder.state
    }

    fn set_state(&mut self, state: ImageBuilderState) {
        self.builder.state = Some(state);
    }

    fn transition(&self) -> &Option<Transition<ImageBuilderState>> {
        &self.transition
    }

    fn transition_mut(&mut self) -> &mut Option<Transition<ImageBuilderState>> {
        &mut self.transition
    }

    fn failing_mut(&mut self) -> &mut Option<TransitionFailure> {
        &mut self.failing
    }

    fn fail(&mut self, failure: TransitionFailure, at: f64) {
        self.set_state(ImageBuilderState::Failed);
        self.builder.image_builder_errors = Some(vec![resource_error(&failure, at)]);
        self.builder.state_change_reason = Some(ImageBuilderStateChangeReason {
            code: Some(ImageBuilderStateChangeReasonCode::InternalError),
            message: Some(failure.message),
        });
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    pub image: Image,
    pub transition: Option<Transition<ImageState>>,
    /// Set while a transition is under way that a fault rule makes fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<TransitionFailure>,
    /// The license-included applications installed in the image, which its sessions use.
    #[serde(default)]
    pub software: BTreeSet<String>,
}

impl Lifecycle for ImageRecord {
    type State = ImageState;

    fn state(&self) -> Option<ImageState> {
        self.image.state
    }

    fn set_state(&mut self, state: ImageState) {
        self.image.state = Some(state);
    }

    fn transition(&self) -> &Option<Transition<ImageState>> {
        &self.transition
    }

    fn transition_mut(&mut self) -> &mut Option<Transition<ImageState>> {
        &mut self.transition
    }

    fn failing_mut(&mut self) -> &mut Option<TransitionFailure> {
        &mut self.failing
    }

    fn fail(&mut self, failure: TransitionFailure, _at: f64) {
        // The reason code says what failed: the one the rule names, else the image's step.
        let code = ImageStateChangeReasonCode::ALL
            .into_iter()
            .find(|c| c.as_str() == failure.code)
            .unwrap_or(match self.image.state {
                Some(ImageState::Copying) => ImageStateChangeReasonCode::ImageCopyFailure,
                Some(ImageState::Importing) => ImageStateChangeReasonCode::ImageImportFailure,
                _ => ImageStateChangeReasonCode::ImageUpdateFailure,
            });
        self.set_state(ImageState::Failed);
        self.image.state_change_reason = Some(ImageStateChangeReason {
            code: Some(code),
            message: Some(failure.message),
        });
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppBlockBuilderRecord {
    pub builder: AppBlockBuilder,
    pub transition: Option<Transition<AppBlockBuilderState>>,
    /// Set while a transition is under way that a fault rule makes fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<TransitionFailure>,
}

/// StartAppBlockBuilder and StopAppBlockBuilder. App block builders have no PENDING
/// state (the model's enum): a new one is STOPPED.
pub const START_APP_BLOCK_BUILDER: Action<AppBlockBuilderState> = Action {
    done: "started",
    from: &[AppBlockBuilderState::Stopped],
    during: AppBlockBuilderState::Starting,
    then: Some(AppBlockBuilderState::Running),
    unchanged_in: &[
        AppBlockBuilderState::Starting,
        AppBlockBuilderState::Running,
    ],
    otherwise: ModeledError::ConcurrentModificationException,
};

pub const STOP_APP_BLOCK_BUILDER: Action<AppBlockBuilderState> = Action {
    done: "stopped",
    from: &[
        AppBlockBuilderState::Starting,
        AppBlockBuilderState::Running,
    ],
    during: AppBlockBuilderState::Stopping,
    then: Some(AppBlockBuilderState::Stopped),
    unchanged_in: &[
        AppBlockBuilderState::Stopping,
        AppBlockBuilderState::Stopped,
    ],
    otherwise: ModeledError::ConcurrentModificationException,
};

impl Lifecycle for AppBlockBuilderRecord {
    type State = AppBlockBuilderState;

    fn state(&self) -> Option<AppBlockBuilderState> {
        Some(self.builder.state)
    }

    fn set_state(&mut self, state: AppBlockBuilderState) {
        self.builder.state = state;
        if state == AppBlockBuilderState::Running {
            self.builder.app_block_builder_errors = None;
        }
    }

    fn transition(&self) -> &Option<Transition<AppBlockBuilderState>> {
        &self.transition
    }

    fn transition_mut(&mut self) -> &mut Option<Transition<AppBlockBuilderState>> {
        &mut self.transition
    }

    fn failing_mut(&mut self) -> &mut Option<TransitionFailure> {
        &mut self.failing
    }

    fn fail(&mut self, failure: TransitionFailure, at: f64) {
        self.set_state(AppBlockBuilderState::Stopped);
        self.builder.app_block_builder_errors = Some(vec![resource_error(&failure, at)]);
    }
}

impl Resource for AppBlockBuilderRecord {
    const KIND: &'static str = "App block builder";
    const PLURAL: &'static str = "app block builders";
    const ARN_TYPE: Option<&'static str> = Some("app-block-builder");
    const CHANGES_ON_ITS_OWN: bool = true;
    fn in_transition(&self) -> bool {
        self.transition.is_some()
    }
    fn taggable_arn(&self) -> Option<&str> {
        Some(&self.builder.arn)
    }
    fn settle(&mut self, now: f64) -> Settled {
        settle_record(self, now)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportTaskRecord {
    pub task: ExportImageTask,
    /// The AMI the task makes, shown once it is COMPLETED.
    pub ami_id: String,
    pub transition: Option<Transition<ExportImageTaskState>>,
    /// Set while a transition is under way that a fault rule makes fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<TransitionFailure>,
}

impl Lifecycle for ExportTaskRecord {
    type State = ExportImageTaskState;

    fn state(&self) -> Option<ExportImageTaskState> {
        self.task.state
    }

    fn set_state(&mut self, state: ExportImageTaskState) {
        self.task.state = Some(state);
        if state == ExportImageTaskState::Completed {
            self.task.ami_id = Some(self.ami_id.clone());
        }
    }

    fn transition(&self) -> &Option<Transition<ExportImageTaskState>> {
        &self.transition
    }

    fn transition_mut(&mut self) -> &mut Option<Transition<ExportImageTaskState>> {
        &mut self.transition
    }

    fn failing_mut(&mut self) -> &mut Option<TransitionFailure> {
        &mut self.failing
    }

    fn fail(&mut self, failure: TransitionFailure, _at: f64) {
        self.set_state(ExportImageTaskState::Failed);
        self.task.error_details = Some(vec![ErrorDetails {
            error_code: Some(failure.code),
            error_message: Some(failure.message),
        }]);
    }
}

/// Keyed by task id.
impl Resource for ExportTaskRecord {
    const KIND: &'static str = "Export image task";
    const PLURAL: &'static str = "export image tasks";
    const ARN_TYPE: Option<&'static str> = None;
    const CHANGES_ON_ITS_OWN: bool = true;
    fn in_transition(&self) -> bool {
        self.transition.is_some()
    }
    fn taggable_arn(&self) -> Option<&str> {
        None
    }
    fn settle(&mut self, now: f64) -> Settled {
        settle_record(self, now)
    }
}

impl Resource for FleetRecord {
    const KIND: &'static str = "Fleet";
    const PLURAL: &'static str = "fleets";
    const ARN_TYPE: Option<&'static str> = Some("fleet");
    fn taggable_arn(&self) -> Option<&str> {
        Some(&self.fleet.arn)
    }
    const CHANGES_ON_ITS_OWN: bool = true;
    fn in_transition(&self) -> bool {
        self.transition.is_some()
    }
    fn settle(&mut self, now: f64) -> Settled {
        settle_record(self, now)
    }
}

impl Resource for ImageBuilderRecord {
    const KIND: &'static str = "Image builder";
    const PLURAL: &'static str = "image builders";
    const ARN_TYPE: Option<&'static str> = Some("image-builder");
    fn taggable_arn(&self) -> Option<&str> {
        self.builder.arn.as_deref()
    }
    const CHANGES_ON_ITS_OWN: bool = true;
    fn in_transition(&self) -> bool {
        self.transition.is_some()
    }
    /// The builder's own transition, then its software deployments'.
    fn settle(&mut self, now: f64) -> Settled {
        let Settled::Pending(mut next_due) = settle_record(self, now) else {
            return Settled::Gone;
        };
        let mut uninstalled = Vec::new();
        for (name, software) in self.software.iter_mut() {
            match software.transition {
                Some(t) if now >= t.due => {
                    software.transition = None;
                    match t.to {
                        Some(status) => software.status = status,
                        None => uninstalled.push(name.clone()),
                    }
                }
                other => next_due = next_due.min(Transition::due_of(other)),
            }
        }
        for name in uninstalled {
            self.software.remove(&name);
        }
        Settled::Pending(next_due)
    }
}

impl Resource for ImageRecord {
    const KIND: &'static str = "Image";
    const PLURAL: &'static str = "images";
    const ARN_TYPE: Option<&'static str> = Some("image");
    fn taggable_arn(&self) -> Option<&str> {
        self.image.arn.as_deref()
    }
    const CHANGES_ON_ITS_OWN: bool = true;
    fn in_transition(&self) -> bool {
        self.transition.is_some()
    }
    fn settle(&mut self, now: f64) -> Settled {
        settle_record(self, now)
    }
}
