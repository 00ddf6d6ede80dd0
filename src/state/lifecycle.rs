//! Resources that change state on their own after a delay (fleets starting, builders
//! booting, images being created). A pending transition is applied lazily when the
//! region is next touched, so a client polling Describe* sees the states in order and
//! no background task is needed.

use serde::{Deserialize, Serialize};

use crate::context::RequestContext;
use crate::generated::types::{
    ComputeCapacityStatus, Fleet, FleetState, Image, ImageBuilder, ImageBuilderState, ImageState,
};
use crate::state::collection::Resource;

/// A state change under way. Its fields are private so that every transition is due at
/// the request's `transition_due()`: the region settles lazily and relies on that.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Transition<S> {
    to: S,
    /// Epoch seconds.
    due: f64,
}

impl<S: Copy> Transition<S> {
    /// A change to `to`, due once the configured transition delay has passed.
    pub fn after_delay(to: S, ctx: &RequestContext) -> Self {
        Transition {
            to,
            due: ctx.transition_due(),
        }
    }

    #[cfg(test)]
    pub fn due_at(to: S, due: f64) -> Self {
        Transition { to, due }
    }

    /// When `transition`, if any, comes due (never, without one).
    pub fn due_of(transition: Option<Self>) -> f64 {
        transition.map_or(f64::INFINITY, |t| t.due)
    }

    fn due_by(&self, now: f64) -> Option<S> {
        (now >= self.due).then_some(self.to)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetRecord {
    pub fleet: Fleet,
    pub transition: Option<Transition<FleetState>>,
}

impl FleetRecord {
    pub fn settle(&mut self, now: f64) {
        if let Some(to) = self.transition.and_then(|t| t.due_by(now)) {
            self.transition = None;
            self.set_state(to);
        }
    }

    /// Moves to `now` at once and on to `then` after the transition delay.
    pub fn begin(&mut self, now: FleetState, then: FleetState, ctx: &RequestContext) {
        self.set_state(now);
        self.transition = Some(Transition::after_delay(then, ctx));
    }

    /// Moves to `state` and keeps the capacity figures consistent with it: a running
    /// fleet has its desired capacity up and available, a stopped one has none.
    pub fn set_state(&mut self, state: FleetState) {
        self.fleet.state = state;
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageBuilderRecord {
    pub builder: ImageBuilder,
    /// `to: None` means the builder disappears (the end of DELETING).
    pub transition: Option<Transition<Option<ImageBuilderState>>>,
}

impl ImageBuilderRecord {
    /// Moves to `now` at once and on to `then` (`None`: gone) after the transition delay.
    pub fn begin(
        &mut self,
        now: ImageBuilderState,
        then: Option<ImageBuilderState>,
        ctx: &RequestContext,
    ) {
        self.builder.state = Some(now);
        self.transition = Some(Transition::after_delay(then, ctx));
    }

    /// Applies a due transition; false when the builder is now gone.
    pub fn settle(&mut self, now: f64) -> bool {
        match self.transition.and_then(|t| t.due_by(now)) {
            None => true,
            Some(None) => false,
            Some(Some(state)) => {
                self.transition = None;
                self.builder.state = Some(state);
                true
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    pub image: Image,
    pub transition: Option<Transition<ImageState>>,
}

impl ImageRecord {
    pub fn settle(&mut self, now: f64) {
        if let Some(to) = self.transition.and_then(|t| t.due_by(now)) {
            self.transition = None;
            self.image.state = Some(to);
        }
    }
}

impl Resource for FleetRecord {
    const KIND: &'static str = "Fleet";
    const PLURAL: &'static str = "fleets";
    fn taggable_arn(&self) -> Option<&str> {
        Some(&self.fleet.arn)
    }
}

impl Resource for ImageBuilderRecord {
    const KIND: &'static str = "Image builder";
    const PLURAL: &'static str = "image builders";
    fn taggable_arn(&self) -> Option<&str> {
        self.builder.arn.as_deref()
    }
}

impl Resource for ImageRecord {
    const KIND: &'static str = "Image";
    const PLURAL: &'static str = "images";
    fn taggable_arn(&self) -> Option<&str> {
        self.image.arn.as_deref()
    }
}
