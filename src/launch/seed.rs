//! Seeded state (`--init FILE`): a list of operations applied in order, through the same
//! decoding, validation and handlers as requests, before the server takes any.

use serde::Deserialize;
use serde_json::Value;

use crate::api::dispatch::{dispatch, WriteLog};
use crate::durability::Journal;
use crate::generated::operations::Operation;
use crate::identity::tenant::Tenant;
use crate::protocol::Protocol;
use crate::request::context::RequestContext;
use crate::state::Store;

/// One entry of the file: an operation, its input in AWS JSON form, and optionally the
/// account and Region it runs as (the defaults of unsigned requests otherwise).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    operation: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

/// Applies every entry of `document` to `store` (recorded in `journal` when there is
/// one); returns how many, or why the first failing entry failed, naming its index
/// (from 0) and operation.
pub async fn apply(
    document: &[u8],
    store: &Store,
    journal: Option<&Journal>,
    config: &crate::config::Config,
) -> Result<usize, String> {
    let entries: Vec<Entry> = serde_json::from_slice(document).map_err(|e| {
        format!(
            "expected a JSON array of {{\"operation\", \"input\", \"account\"?, \"region\"?}}: {e}"
        )
    })?;
    let count = entries.len();
    for (index, entry) in entries.into_iter().enumerate() {
        let failed = |why: String| format!("entry {index} ({}): {why}", entry.operation);
        let op = Operation::from_name(&entry.operation)
            .ok_or_else(|| failed("not an operation of the model".into()))?;
        let defaults = Tenant::default();
        let tenant = Tenant {
            account: entry.account.clone().unwrap_or(defaults.account),
            region: entry.region.clone().unwrap_or(defaults.region),
        };
        if !crate::identity::auth::is_account(&tenant.account)
            || !crate::identity::auth::is_region(&tenant.region)
        {
            return Err(failed(format!(
                "'{}' / '{}' is not an account and a Region",
                tenant.account, tenant.region
            )));
        }
        let body = entry
            .input
            .as_ref()
            .map_or_else(Vec::new, |input| input.to_string().into_bytes());
        let protocol = Protocol::AwsJson11;
        let seq = {
            let input = protocol
                .decode(&body, op.input())
                .map_err(|e| failed(e.to_string()))?;
            let ctx = RequestContext::arriving(&tenant, config);
            let log = journal.map(|j| j as &dyn WriteLog);
            dispatch(op, &ctx, store, input, protocol, log)
                .map_err(|e| failed(e.to_string()))?
                .log_seq
        };
        if let (Some(seq), Some(journal)) = (seq, journal) {
            journal
                .wait_durable(seq)
                .await
                .map_err(|e| failed(e.to_string()))?;
        }
    }
    Ok(count)
}
