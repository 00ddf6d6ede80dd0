//! Who is calling and where: the account and region a request's state lives in.
//! Signatures are not verified; the SigV4 credential scope only names the tenant.

use axum::http::HeaderMap;

pub const DEFAULT_ACCOUNT: &str = "000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Tenant {
    pub account: String,
    pub region: String,
}

impl Default for Tenant {
    fn default() -> Self {
        Tenant {
            account: DEFAULT_ACCOUNT.into(),
            region: DEFAULT_REGION.into(),
        }
    }
}

/// Reads `Credential=AKID/DATE/REGION/SERVICE/aws4_request` from the Authorization header.
/// A 12-digit access key id is taken as the account id; any other key maps to the
/// default account. An unsigned request is the default account in us-east-1.
pub fn tenant(headers: &HeaderMap) -> Tenant {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Tenant::default();
    };
    let Some(scope) = auth
        .split([' ', ','])
        .find_map(|part| part.trim().strip_prefix("Credential="))
    else {
        return Tenant::default();
    };
    let mut parts = scope.split('/');
    let access_key = parts.next().unwrap_or_default();
    let region = parts.nth(1).filter(|r| is_region_like(r));
    Tenant {
        account: if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) {
            access_key.to_string()
        } else {
            DEFAULT_ACCOUNT.to_string()
        },
        region: region.unwrap_or(DEFAULT_REGION).to_string(),
    }
}

/// Region names are lowercase letters, digits and dashes; anything else is not trusted
/// as a key for state or as part of an ARN.
fn is_region_like(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", value.parse().unwrap());
        headers
    }

    #[test]
    fn reads_region_and_numeric_account_from_the_credential_scope() {
        let t = tenant(&with_auth(
            "AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/appstream/aws4_request, SignedHeaders=host, Signature=abc",
        ));
        assert_eq!(t.account, "123456789012");
        assert_eq!(t.region, "eu-west-1");
    }

    #[test]
    fn other_keys_and_unsigned_requests_get_the_defaults() {
        let t = tenant(&with_auth(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/ap-south-1/appstream/aws4_request",
        ));
        assert_eq!(t.account, DEFAULT_ACCOUNT);
        assert_eq!(t.region, "ap-south-1");
        assert_eq!(tenant(&HeaderMap::new()), Tenant::default());
    }
}
