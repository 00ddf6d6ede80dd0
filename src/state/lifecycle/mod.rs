//! Resources that change state on their own after a delay (fleets starting, builders
//! booting, images being created). A pending transition is applied lazily when the
//! region is next touched, so a client polling Describe* sees the states in order and
//! no background task is needed.
//!
//! Each family declares its actions as tables (`Action`): from which states an action
//! may begin, the state it shows at once, the state it ends in, the states where it
//! changes nothing, and the error otherwise. `begin` applies a row; `settle_record`
//! completes a due transition, and the region settles every family alike.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::types::{
    AppBlockBuilderState, ExportImageTaskState, FleetErrorCode, FleetState, ImageBuilderState,
    ImageState, ResourceError,
};
use crate::request::context::{RequestContext, TransitionFailure};
use crate::state::collection::{Resource, Settled};

mod records;

pub use records::*;
/// A state change under way. Its fields are private so that every transition is due at
/// the request's `transition_due()`: the region settles lazily and relies on that.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Transition<S> {
    /// The state it ends in; `None` means the resource is gone (the end of DELETING).
    to: Option<S>,
    /// Epoch seconds.
    due: f64,
}

impl<S: Copy> Transition<S> {
    /// A change to `to`, due once the configured transition delay has passed.
    pub fn after_delay(to: Option<S>, ctx: &RequestContext) -> Self {
        Transition {
            to,
            due: ctx.transition_due(),
        }
    }

    #[cfg(test)]
    pub fn due_at(to: S, due: f64) -> Self {
        Transition { to: Some(to), due }
    }

    /// When `transition`, if any, comes due (never, without one).
    pub fn due_of(transition: Option<Self>) -> f64 {
        transition.map_or(f64::INFINITY, |t| t.due)
    }
}

/// A state an API names, e.g. `RUNNING`.
pub trait StateName: Copy + PartialEq + 'static {
    fn name(self) -> &'static str;
}

macro_rules! state_names {
    ($($state:ty),*) => {$(
        impl StateName for $state {
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    )*};
}

state_names!(
    FleetState,
    ImageBuilderState,
    ImageState,
    AppBlockBuilderState,
    ExportImageTaskState
);

/// A resource whose state moves through transitions.
pub trait Lifecycle: Resource {
    type State: StateName;
    fn state(&self) -> Option<Self::State>;
    /// Moves to `state` at once, with whatever else follows from it.
    fn set_state(&mut self, state: Self::State);
    fn transition(&self) -> &Option<Transition<Self::State>>;
    fn transition_mut(&mut self) -> &mut Option<Transition<Self::State>>;
    /// The failure the transition under way ends in, when a fault rule chose one.
    fn failing_mut(&mut self) -> &mut Option<TransitionFailure>;
    /// Ends the transition under way in failure, as AWS reports one for this kind.
    fn fail(&mut self, failure: TransitionFailure, at: f64);
}

/// Starts `to` on `record`, due after the transition delay; it fails instead when the
/// request's fault rule says so.
pub fn start_transition<R: Lifecycle>(record: &mut R, to: Option<R::State>, ctx: &RequestContext) {
    *record.transition_mut() = Some(Transition::after_delay(to, ctx));
    *record.failing_mut() = ctx.transition_failure.cloned();
}

/// The fleet error code a failure names, or INTERNAL_SERVICE_ERROR when it names none.
fn fleet_error_code(failure: &TransitionFailure) -> FleetErrorCode {
    FleetErrorCode::ALL
        .into_iter()
        .find(|c| c.as_str() == failure.code)
        .unwrap_or(FleetErrorCode::InternalServiceError)
}

fn resource_error(failure: &TransitionFailure, at: f64) -> ResourceError {
    ResourceError {
        error_code: Some(fleet_error_code(failure)),
        error_message: Some(failure.message.clone()),
        error_timestamp: Some(at),
    }
}

/// One action of a lifecycle, as a row of its family's table.
pub struct Action<S: 'static> {
    /// How messages say what the action does to a resource, e.g. "started".
    pub done: &'static str,
    /// The states it may begin from.
    pub from: &'static [S],
    /// The state it shows at once.
    pub during: S,
    /// The state it ends in after the transition delay; `None`: the resource is gone.
    pub then: Option<S>,
    /// The states in which it changes nothing.
    pub unchanged_in: &'static [S],
    /// The error in any other state.
    pub otherwise: ModeledError,
}

/// What an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Began,
    Unchanged,
}

/// Applies `action` to the resource `name`, or says why it cannot be.
pub fn begin<R: Lifecycle>(
    record: &mut R,
    name: &str,
    action: &Action<R::State>,
    ctx: &RequestContext,
) -> Result<Outcome, ApiError> {
    let current = record.state();
    if current.is_some_and(|s| action.from.contains(&s)) {
        record.set_state(action.during);
        start_transition(record, action.then, ctx);
        return Ok(Outcome::Began);
    }
    if current.is_some_and(|s| action.unchanged_in.contains(&s)) {
        return Ok(Outcome::Unchanged);
    }
    let from: Vec<&str> = action.from.iter().map(|s| s.name()).collect();
    Err(ApiError::modeled(
        action.otherwise,
        format!(
            "{} {name} is {}; it can be {} when {}.",
            R::KIND,
            current.map_or("UNKNOWN", StateName::name),
            action.done,
            from.join(" or ")
        ),
    ))
}

/// `Resource::settle` for a resource with a lifecycle: completes its transition if due.
pub fn settle_record<R: Lifecycle>(record: &mut R, now: f64) -> Settled {
    match *record.transition() {
        Some(t) if now >= t.due => {
            *record.transition_mut() = None;
            if let Some(failure) = record.failing_mut().take() {
                record.fail(failure, t.due);
                return Settled::Pending(f64::INFINITY);
            }
            match t.to {
                Some(state) => {
                    record.set_state(state);
                    Settled::Pending(f64::INFINITY)
                }
                None => Settled::Gone,
            }
        }
        other => Settled::Pending(Transition::due_of(other)),
    }
}
