//! Fault rules behind `/_faults` and `--faults`: errors, latency and failing transitions
//! injected into chosen operations, so that tests see their retries, timeouts and
//! failure paths run. A rule that fires is counted and named in the request's log line
//! and history.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::controls::failure::TransitionFailure;
use crate::error::ApiError;
use crate::generated::errors::ModeledError;
use crate::generated::operations::Operation;
use crate::generated::types::{FleetErrorCode, ImageStateChangeReasonCode};
use crate::identity::tenant::Tenant;

/// The operations that start a transition, where `transition_failure` applies.
pub const TRANSITION_OPERATIONS: &[&str] = &[
    "StartFleet",
    "CreateImageBuilder",
    "StartImageBuilder",
    "CreateUpdatedImage",
    "CopyImage",
    "CreateImportedImage",
    "CreateExportImageTask",
    "StartAppBlockBuilder",
];

/// The error a rule answers with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultError {
    pub code: String,
    #[serde(default = "default_message")]
    pub message: String,
    /// Defaults to the model's status for a modeled code, else 400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

fn default_message() -> String {
    crate::controls::failure::injected()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Given by the server when the rule is added.
    #[serde(default, skip_deserializing)]
    pub id: String,
    /// A model operation's name, or "*" for every operation.
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default = "always")]
    pub probability: f64,
    /// Fires at most this many times; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FaultError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_failure: Option<TransitionFailure>,
    /// How many times it has fired.
    #[serde(default, skip_deserializing)]
    pub fired: u64,
}

fn always() -> f64 {
    1.0
}

/// A document of rules, as `POST /_faults`, `GET /_faults` and `--faults` files have it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    rules: Vec<Rule>,
}

/// What a rule that fired does to one request.
#[derive(Debug, Clone)]
pub struct Fired {
    pub rule: String,
    pub error: Option<ApiError>,
    pub latency: Option<Duration>,
    pub transition_failure: Option<TransitionFailure>,
}

impl Rule {
    /// Why the rule cannot be used, naming the field.
    fn check(&self, at: usize) -> Result<(), String> {
        let field = |name: &str| format!("rules[{at}].{name}");
        if self.operation != "*" && Operation::from_name(&self.operation).is_none() {
            return Err(format!(
                "{}: '{}' is not an operation of the model (or \"*\")",
                field("operation"),
                crate::error::shorten(&self.operation)
            ));
        }
        if let Some(account) = &self.account {
            if !crate::identity::auth::is_account(account) {
                return Err(format!("{}: not a 12-digit account id", field("account")));
            }
        }
        if let Some(region) = &self.region {
            if !crate::identity::auth::is_region(region) {
                return Err(format!("{}: not a Region", field("region")));
            }
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!("{}: must be between 0 and 1", field("probability")));
        }
        if self.count == Some(0) {
            return Err(format!("{}: must be at least 1", field("count")));
        }
        if self.error.is_none() && self.latency_ms.is_none() && self.transition_failure.is_none() {
            return Err(format!(
                "rules[{at}]: needs an effect: error, latency_ms or transition_failure"
            ));
        }
        let messages = [
            ("error.message", self.error.as_ref().map(|e| &e.message)),
            (
                "transition_failure.message",
                self.transition_failure.as_ref().map(|f| &f.message),
            ),
        ];
        for (name, message) in messages {
            if message.is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS) {
                return Err(format!(
                    "{}: at most {MAX_MESSAGE_CHARS} characters",
                    field(name)
                ));
            }
        }
        if let Some(error) = &self.error {
            if !is_code(&error.code) {
                return Err(format!(
                    "{}: must be an error code such as ThrottlingException",
                    field("error.code")
                ));
            }
            if error.status.is_some_and(|s| !(400..=599).contains(&s)) {
                return Err(format!("{}: must be 400 to 599", field("error.status")));
            }
        }
        if let Some(failure) = &self.transition_failure {
            if self.operation != "*" && !TRANSITION_OPERATIONS.contains(&self.operation.as_str()) {
                return Err(format!(
                    "{}: {} starts no transition; use one of {}",
                    field("transition_failure"),
                    self.operation,
                    TRANSITION_OPERATIONS.join(", ")
                ));
            }
            if let Some(codes) = failure_codes(&self.operation) {
                if !codes.contains(&failure.code.as_str()) {
                    return Err(format!(
                        "{}: {} reports one of {}",
                        field("transition_failure.code"),
                        self.operation,
                        codes.join(", ")
                    ));
                }
            } else if !is_code(&failure.code) && !is_enum_value(&failure.code) {
                return Err(format!(
                    "{}: must be an error code",
                    field("transition_failure.code")
                ));
            }
        }
        Ok(())
    }

    fn applies_to(&self, operation: Operation, tenant: &Tenant) -> bool {
        (self.operation == "*" || self.operation == operation.name())
            && self.account.as_ref().is_none_or(|a| *a == tenant.account)
            && self.region.as_ref().is_none_or(|r| *r == tenant.region)
            && self.count.is_none_or(|c| self.fired < c)
    }

    fn fire(&mut self, operation: Operation) -> Fired {
        self.fired += 1;
        Fired {
            rule: self.id.clone(),
            error: self.error.as_ref().map(|e| {
                let modeled = ModeledError::from_code(&e.code);
                let status = e
                    .status
                    .unwrap_or_else(|| modeled.map_or(400, ModeledError::status));
                ApiError::dynamic(e.code.clone(), status, e.message.clone())
            }),
            latency: self.latency_ms.map(Duration::from_millis),
            // A "*" rule fails only the transitions the operation starts.
            transition_failure: self
                .transition_failure
                .clone()
                .filter(|_| TRANSITION_OPERATIONS.contains(&operation.name())),
        }
    }
}

/// The codes a failed transition of `operation` can report, where the model fixes them:
/// fleets and builders report a FleetErrorCode, images an ImageStateChangeReasonCode.
/// Export tasks (and "*", which applies to every kind) take any code.
fn failure_codes(operation: &str) -> Option<Vec<&'static str>> {
    match operation {
        "StartFleet" | "CreateImageBuilder" | "StartImageBuilder" | "StartAppBlockBuilder" => {
            Some(FleetErrorCode::ALL.iter().map(|c| c.as_str()).collect())
        }
        "CreateUpdatedImage" | "CopyImage" | "CreateImportedImage" => Some(
            ImageStateChangeReasonCode::ALL
                .iter()
                .map(|c| c.as_str())
                .collect(),
        ),
        _ => None,
    }
}

/// An enum value of AWS's form, e.g. `INTERNAL_SERVICE_ERROR`.
fn is_enum_value(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 128
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// An AWS error code: a letter, then letters and digits.
fn is_code(code: &str) -> bool {
    code.len() <= 128
        && code.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && code.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The most rules in force at once.
pub const MAX_RULES: usize = 1000;

/// The longest message a rule may answer with: AWS's messages are a sentence or two,
/// and every rule is kept, listed and copied into each error it injects.
pub const MAX_MESSAGE_CHARS: usize = 1024;

#[derive(Default)]
pub struct Faults {
    state: Mutex<FaultState>,
    /// Whether any rule is in force, so that requests skip the lock when none is.
    any: AtomicBool,
}

#[derive(Default)]
struct FaultState {
    rules: Vec<Rule>,
    next_id: u64,
}

impl FaultState {
    /// Appends `rules`, each with the next id and unfired; returns them as appended.
    fn push_numbered(&mut self, rules: Vec<Rule>) -> Vec<Rule> {
        let added: Vec<Rule> = rules
            .into_iter()
            .map(|mut rule| {
                self.next_id += 1;
                rule.id = self.next_id.to_string();
                rule.fired = 0;
                rule
            })
            .collect();
        self.rules.extend(added.iter().cloned());
        added
    }
}

impl Faults {
    /// Reads a `{"rules": [...]}` document: all its rules, or why one is unusable.
    pub fn parse(document: &[u8]) -> Result<Vec<Rule>, String> {
        let mut reader = serde_json::Deserializer::from_slice(document);
        let parsed: Rules = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
            let at = e.path().to_string();
            match at.as_str() {
                "." | "" => e.inner().to_string(),
                _ => format!("{at}: {}", e.inner()),
            }
        })?;
        if parsed.rules.len() > MAX_RULES {
            return Err(format!("rules: at most {MAX_RULES} rules may be in force"));
        }
        for (at, rule) in parsed.rules.iter().enumerate() {
            rule.check(at)?;
        }
        Ok(parsed.rules)
    }

    /// Adds `rules`, giving each an id; returns them as added, or why none was: every
    /// request scans the rules, so there are at most `MAX_RULES`.
    pub fn add(&self, rules: Vec<Rule>) -> Result<Vec<Rule>, String> {
        let mut state = self.lock();
        if state.rules.len() + rules.len() > MAX_RULES {
            return Err(format!(
                "at most {MAX_RULES} rules may be in force; {} are, and {} more were given",
                state.rules.len(),
                rules.len()
            ));
        }
        let added = state.push_numbered(rules);
        self.any.store(!state.rules.is_empty(), Ordering::Release);
        Ok(added)
    }

    pub fn list(&self) -> Vec<Rule> {
        self.lock().rules.clone()
    }

    pub fn clear(&self) {
        self.lock().rules.clear();
        self.any.store(false, Ordering::Release);
    }

    /// Replaces every rule with `rules` (unfired) at once, so that no request sees the
    /// set half replaced; `rules` were checked against the limit when they were read.
    pub fn replace(&self, rules: Vec<Rule>) {
        let mut state = self.lock();
        state.rules.clear();
        state.push_numbered(rules.into_iter().take(MAX_RULES).collect());
        self.any.store(!state.rules.is_empty(), Ordering::Release);
    }

    /// Removes the rule `id`; false when there is none.
    pub fn remove(&self, id: &str) -> bool {
        let mut state = self.lock();
        let before = state.rules.len();
        state.rules.retain(|rule| rule.id != id);
        self.any.store(!state.rules.is_empty(), Ordering::Release);
        state.rules.len() != before
    }

    /// The first rule, in the order they were added, that applies to this request and
    /// wins its probability roll; it is counted as fired.
    pub fn fire(&self, operation: Operation, tenant: &Tenant) -> Option<Fired> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.lock();
        state
            .rules
            .iter_mut()
            .find(|rule| {
                rule.applies_to(operation, tenant)
                    && (rule.probability >= 1.0 || rand::random::<f64>() < rule.probability)
            })
            .map(|rule| rule.fire(operation))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
