//! The one error type every layer returns; protocols turn it into their wire form.

use std::borrow::Cow;

use crate::generated::errors::ModeledError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// AWS's error code, e.g. `ResourceNotFoundException`; owned only for codes a fault
    /// rule names.
    pub code: Cow<'static, str>,
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code: Cow::Borrowed(code),
            status,
            message: message.into(),
        }
    }

    /// An error whose code is only known at run time (a fault rule's).
    pub fn dynamic(code: String, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code: Cow::Owned(code),
            status,
            message: message.into(),
        }
    }

    pub fn modeled(error: ModeledError, message: impl Into<String>) -> Self {
        ApiError::new(error.code(), error.status(), message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::modeled(ModeledError::ResourceNotFoundException, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        ApiError::modeled(ModeledError::ResourceAlreadyExistsException, message)
    }

    pub fn in_use(message: impl Into<String>) -> Self {
        ApiError::modeled(ModeledError::ResourceInUseException, message)
    }

    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        ApiError::modeled(ModeledError::LimitExceededException, message)
    }

    pub fn invalid_combination(message: impl Into<String>) -> Self {
        ApiError::modeled(ModeledError::InvalidParameterCombinationException, message)
    }

    /// Constraint violations; not in the model, but what every AWS JSON service answers.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new("ValidationException", 400, message)
    }

    /// A body that cannot be read, or a member of the wrong type.
    pub fn serialization(message: impl Into<String>) -> Self {
        ApiError::new("SerializationException", 400, message)
    }

    pub fn unknown_operation(status: u16, message: impl Into<String>) -> Self {
        ApiError::new("UnknownOperationException", status, message)
    }

    pub fn not_implemented(operation: &str) -> Self {
        ApiError::new(
            "NotImplementedException",
            501,
            format!("The operation {operation} is not implemented by appstream-local yet."),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        ApiError::new(
            "RequestEntityTooLargeException",
            413,
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    pub fn body_timeout(after: std::time::Duration) -> Self {
        ApiError::new(
            "RequestTimeoutException",
            408,
            format!("The request body did not arrive within {after:?}."),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new("InternalFailure", 500, message)
    }
}

/// A value echoed in a message is cut to this many characters, so that a huge input
/// cannot make a huge message.
pub const MAX_ECHOED_CHARS: usize = 256;

/// `text` cut to `MAX_ECHOED_CHARS` characters, marked where it was cut.
pub fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_ECHOED_CHARS) {
        None => text.into(),
        Some((end, _)) => format!("{}...(truncated)", &text[..end]).into(),
    }
}
