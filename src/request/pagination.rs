//! NextToken handling shared by every paged operation. A token is opaque to clients:
//! it names the operation it came from and the last key returned, so a page boundary
//! stays stable while resources are added or removed between calls.

use std::collections::BTreeMap;
use std::ops::Bound;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::request::context::RequestContext;

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The operation the token was issued by; a token from another one is refused.
    op: String,
    /// The key of the last item of the previous page.
    after: Value,
}

fn encode_token<K: Serialize>(operation: &str, after: &K) -> String {
    let cursor = Cursor {
        op: operation.into(),
        after: serde_json::to_value(after).unwrap_or(Value::Null),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

/// The key to resume after, or a ValidationException for a token we did not issue.
pub fn decode_token<K: DeserializeOwned>(operation: &str, token: &str) -> Result<K, ApiError> {
    let invalid = || ApiError::validation(format!("Invalid NextToken for {operation}: '{token}'."));
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.op != operation {
        return Err(invalid());
    }
    serde_json::from_value(cursor.after).map_err(|_| invalid())
}

/// The name of the operation being served, which every token is bound to.
pub fn operation(ctx: &RequestContext) -> &'static str {
    ctx.operation.map_or("", |op| op.name())
}

/// One page and the token for the next one, when more remain. `items_after` yields
/// (key, item) in ascending key order, starting after the key it is given (the one the
/// client's NextToken names, if any); only the page and one more item are drawn from it.
pub fn page<K, T, I>(
    ctx: &RequestContext,
    next_token: Option<&str>,
    page_size: usize,
    items_after: impl FnOnce(Option<K>) -> I,
) -> Result<(Vec<T>, Option<String>), ApiError>
where
    K: Serialize + DeserializeOwned,
    I: Iterator<Item = (K, T)>,
{
    let operation = operation(ctx);
    let resume: Option<K> = next_token
        .map(|token| decode_token(operation, token))
        .transpose()?;
    let mut items = items_after(resume);
    let mut page = Vec::new();
    let mut last = None;
    for (key, item) in items.by_ref().take(page_size) {
        page.push(item);
        last = Some(key);
    }
    let next = match (last, items.next()) {
        (Some(key), Some(_)) => Some(encode_token(operation, &key)),
        _ => None,
    };
    Ok((page, next))
}

/// The entries of `map` after `after`, for `page`: O(log n) to find the start.
pub fn map_after<T>(
    map: &BTreeMap<String, T>,
    after: Option<String>,
) -> impl Iterator<Item = (String, &T)> {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    map.range((start, Bound::Unbounded))
        .map(|(key, item)| (key.clone(), item))
}

/// The page size a request asks for with MaxResults (or Limit), or `default` when it
/// gives none or zero.
pub fn page_size(max_results: Option<i32>, default: usize) -> usize {
    match max_results {
        Some(n) if n > 0 => n as usize,
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::generated::operations::Operation;
    use crate::identity::tenant::Tenant;

    #[test]
    fn pages_cover_every_item_once_in_order() {
        let items: BTreeMap<String, u32> = (0..7).map(|i| (format!("k{i}"), i)).collect();
        let (tenant, config) = (Tenant::default(), Config::default());
        let ctx = RequestContext::arriving(&tenant, &config).serving(Operation::DescribeStacks);
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (page, next) =
                page(&ctx, token.as_deref(), 3, |after| map_after(&items, after)).unwrap();
            seen.extend(page.into_iter().copied());
            match next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn foreign_tokens_are_refused() {
        assert!(decode_token::<String>("Op", "garbage!").is_err());
        let other = encode_token("Other", &"k1");
        assert_eq!(
            decode_token::<String>("Op", &other).unwrap_err().code,
            "ValidationException"
        );
        // A token of the right operation whose key has another shape is refused too.
        let tuple = encode_token("Op", &("a", "b"));
        assert!(decode_token::<String>("Op", &tuple).is_err());
    }
}
