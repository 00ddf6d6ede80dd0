//! Runs raw request bodies through the whole pipeline below HTTP (decode, validation,
//! handler, encode) against one store: the entry point of the fuzz targets and of the
//! corpus replay in the test suite.

use crate::api::dispatch::dispatch;
use crate::config::Config;
use crate::error::ApiError;
use crate::generated::operations::Operation;
use crate::identity::tenant::Tenant;
use crate::protocol::Protocol;
use crate::request::context::RequestContext;
use crate::state::Store;

/// The first byte picks the operation; the rest is the body. Returns the error a server
/// fault would have become (status 500), which must never happen.
pub fn exercise(store: &Store, protocol: Protocol, data: &[u8]) -> Result<(), ApiError> {
    let Some((&selector, body)) = data.split_first() else {
        return Ok(());
    };
    let op = Operation::ALL[selector as usize % Operation::ALL.len()];
    let tenant = Tenant::default();
    let config = Config {
        transition_delay: std::time::Duration::ZERO,
        ..Config::default()
    };
    let ctx = RequestContext::arriving(&tenant, &config);
    let outcome = protocol
        .decode(body, op.input())
        .and_then(|input| dispatch(op, &ctx, store, input, protocol, None).map(|d| d.body));
    match outcome {
        Err(error) if error.status >= 500 && error.status != 501 => Err(error),
        Err(error) => {
            // Whatever is refused is refused in the protocol's own error form.
            let _ = protocol.error_response(&error, "fuzz");
            Ok(())
        }
        Ok(_) => Ok(()),
    }
}
