//! Resources that change state on their own after a delay (fleets starting, builders
//! booting, images being created). A pending transition is applied lazily when the
//! region is next touched, so a client polling Describe* sees the states in order and
//! no background task is needed.

use serde::{Deserialize, Serialize};

use crate::generated::types::{
    ComputeCapacityStatus, Fleet, FleetState, Image, ImageBuilder, ImageBuilderState, ImageState,
};

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Transition<S> {
    pub to: S,
    /// Epoch seconds.
    pub due: f64,
}

impl<S: Copy> Transition<S> {
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
