//! NextToken handling shared by every paged operation. A token is opaque to clients:
//! it names the operation it came from and the last key returned, so a page boundary
//! stays stable while resources are added or removed between calls.

use std::collections::BTreeMap;
use std::ops::Bound;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The operation the token was issued by; a token from another one is refused.
    op: String,
    /// The last key of the previous page.
    after: String,
}

pub fn encode_token(operation: &str, after: &str) -> String {
    let cursor = Cursor {
        op: operation.into(),
        after: after.into(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

/// The key to resume after, or a ValidationException for a token we did not issue.
pub fn decode_token(operation: &str, token: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::validation(format!("Invalid NextToken for {operation}: '{token}'."));
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.op != operation {
        return Err(invalid());
    }
    Ok(cursor.after)
}

/// A page of (key, value) entries and the token for the next one, if any.
pub type Page<'a, T> = (Vec<(&'a String, &'a T)>, Option<String>);

/// One page of `items` (key, value) in key order, starting after `after`, with the token
/// for the next page when more remain. Cost is O(log n + page), however many items exist.
pub fn page<'a, T>(
    operation: &str,
    items: &'a BTreeMap<String, T>,
    after: Option<&str>,
    page_size: usize,
) -> Page<'a, T> {
    let start = match after {
        Some(key) => Bound::Excluded(key),
        None => Bound::Unbounded,
    };
    let mut range = items.range::<str, _>((start, Bound::Unbounded));
    let page: Vec<(&String, &T)> = range.by_ref().take(page_size).collect();
    let next = match (page.last(), range.next()) {
        (Some((last, _)), Some(_)) => Some(encode_token(operation, last)),
        _ => None,
    };
    (page, next)
}

/// The page size a request asks for with MaxResults (or Limit), or `default` when it
/// gives none or zero.
pub fn page_size(max_results: Option<i32>, default: usize) -> usize {
    match max_results {
        Some(n) if n > 0 => n as usize,
        _ => default,
    }
}

/// `page`, resuming from a client's NextToken (None on the first call).
pub fn page_from_token<'a, T>(
    operation: &str,
    items: &'a BTreeMap<String, T>,
    next_token: Option<&str>,
    page_size: usize,
) -> Result<Page<'a, T>, ApiError> {
    let after = next_token
        .map(|token| decode_token(operation, token))
        .transpose()?;
    Ok(page(operation, items, after.as_deref(), page_size))
}

/// The Describe* shape shared by stacks, fleets and image builders: with `names`, those
/// items in the order asked for, each once however often it is named, in one response,
/// any unknown name being not found; without, one page of all of them.
pub fn describe<T, O>(
    operation: &str,
    items: &BTreeMap<String, T>,
    names: Option<&[String]>,
    next_token: Option<&str>,
    page_size: usize,
    view: impl Fn(&T) -> O,
    not_found: impl Fn(&str) -> ApiError,
) -> Result<(Vec<O>, Option<String>), ApiError> {
    // A token is checked even when names make it moot, so a bad one is never ignored.
    let after = next_token
        .map(|token| decode_token(operation, token))
        .transpose()?;
    if let Some(names) = names {
        let mut answered = std::collections::HashSet::new();
        let found = names
            .iter()
            .filter(|name| answered.insert(name.as_str()))
            .map(|name| items.get(name).map(&view).ok_or_else(|| not_found(name)))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((found, None));
    }
    let (entries, next) = page(operation, items, after.as_deref(), page_size);
    Ok((
        entries.into_iter().map(|(_, item)| view(item)).collect(),
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_item_once_in_order() {
        let items: BTreeMap<String, u32> = (0..7).map(|i| (format!("k{i}"), i)).collect();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (page, next) = page("Op", &items, after.as_deref(), 3);
            seen.extend(page.into_iter().map(|(_, v)| *v));
            match next {
                Some(token) => after = Some(decode_token("Op", &token).unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn foreign_tokens_are_refused() {
        assert!(decode_token("Op", "garbage!").is_err());
        let other = encode_token("Other", "k1");
        assert_eq!(
            decode_token("Op", &other).unwrap_err().code,
            "ValidationException"
        );
    }
}
