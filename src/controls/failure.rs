//! How a transition ends when a fault rule makes it fail. A leaf module: the request
//! context carries it, fault rules give it, and journal records keep it.

/// How a transition a request begins ends when a fault rule makes it fail: the error
/// code and message the resource then reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionFailure {
    pub code: String,
    #[serde(default = "injected")]
    pub message: String,
}

/// The message of an injected fault that gives none.
pub fn injected() -> String {
    "Injected by an appstream-local fault rule.".to_string()
}
