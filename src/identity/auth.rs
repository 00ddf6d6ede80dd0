//! Who is calling and where: the account and region a request's state lives in, from
//! the SigV4 credential scope. A scope that names no valid Region is refused rather than
//! served from another Region. Signatures are checked only with `--verify-signatures`
//! (`signatures`), which reads the header through the same parsing.

use axum::http::HeaderMap;

use crate::error::ApiError;
use crate::identity::tenant::{Tenant, DEFAULT_ACCOUNT};

pub const SIGV4: &str = "AWS4-HMAC-SHA256";
const SIGV4A: &str = "AWS4-ECDSA-P256-SHA256";
/// The service name requests are signed for.
pub const SERVICE: &str = "appstream";

/// The value of parameter `name` (`Name=value`) of an Authorization header, whose
/// parameters are separated by commas and spaces.
pub fn parameter<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split([' ', ','])
        .find_map(|part| part.trim().strip_prefix(name)?.strip_prefix('='))
}

/// A SigV4 credential scope: `ACCESS_KEY/DATE/REGION/SERVICE/aws4_request`.
pub struct CredentialScope<'a> {
    pub access_key: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl<'a> CredentialScope<'a> {
    pub fn parse(scope: &'a str) -> Option<Self> {
        match scope.split('/').collect::<Vec<_>>()[..] {
            [access_key, date, region, service, "aws4_request"] => Some(CredentialScope {
                access_key,
                date,
                region,
                service,
            }),
            _ => None,
        }
    }
}

/// Reads `Credential=AKID/DATE/REGION/SERVICE/aws4_request` from a SigV4 Authorization
/// header (SigV4a: `AKID/DATE/SERVICE/aws4_request` with the Region in
/// `X-Amz-Region-Set`). A 12-digit access key id is taken as the account id; any other
/// key maps to the default account. An unsigned request is the default account in
/// us-east-1.
pub fn tenant(headers: &HeaderMap) -> Result<Tenant, ApiError> {
    let Some(auth) = headers.get("authorization") else {
        return Ok(Tenant::default());
    };
    let auth = auth
        .to_str()
        .map_err(|_| incomplete("The Authorization header is not valid text."))?;
    let algorithm = auth.split_whitespace().next().unwrap_or_default();
    if algorithm != SIGV4 && algorithm != SIGV4A {
        // Not an AWS signature at all: treated as unsigned, as for a missing header.
        return Ok(Tenant::default());
    }
    let scope = parameter(auth, "Credential")
        .ok_or_else(|| incomplete("Authorization header requires 'Credential' parameter."))?;
    let parts: Vec<&str> = scope.split('/').collect();
    let v4 = CredentialScope::parse(scope).filter(|_| algorithm == SIGV4);
    let (access_key, region, service) = match (v4, algorithm, parts.as_slice()) {
        (Some(v4), _, _) => (v4.access_key, v4.region.to_string(), v4.service),
        (None, SIGV4A, [key, _date, service, "aws4_request"]) => {
            let set = headers
                .get("x-amz-region-set")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            (*key, set.trim().to_string(), *service)
        }
        _ => {
            return Err(incomplete(format!(
                "Credential scope '{}' is malformed; expected ACCESS_KEY/DATE/REGION/{SERVICE}/aws4_request.",
                crate::error::shorten(scope)
            )))
        }
    };
    if service != SERVICE {
        return Err(invalid_signature(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if !is_region(&region) {
        return Err(invalid_signature(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            crate::error::shorten(&region)
        )));
    }
    Ok(Tenant {
        account: account_for_key(access_key),
        region,
    })
}

/// A 12-digit access key id is the account id; any other key is the default account.
pub fn account_for_key(access_key: &str) -> String {
    if is_account(access_key) {
        access_key.to_string()
    } else {
        DEFAULT_ACCOUNT.to_string()
    }
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::new("IncompleteSignatureException", 400, message)
}

fn invalid_signature(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidSignatureException", 403, message)
}

/// AWS's Region syntax: a two-letter area, one or more lowercase words, and a number,
/// as in `us-east-1`, `us-gov-west-1` or `ap-southeast-5`.
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [area, words @ .., number] = parts.as_slice() else {
        return false;
    };
    region.len() <= 32
        && area.len() == 2
        && area.bytes().all(|b| b.is_ascii_lowercase())
        && !words.is_empty()
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// An account id as AWS writes it: twelve digits.
pub fn is_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
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
        ))
        .unwrap();
        assert_eq!(t.account, "123456789012");
        assert_eq!(t.region, "eu-west-1");
    }

    #[test]
    fn other_keys_and_unsigned_requests_get_the_defaults() {
        let t = tenant(&with_auth(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/ap-south-1/appstream/aws4_request",
        ))
        .unwrap();
        assert_eq!(t.account, DEFAULT_ACCOUNT);
        assert_eq!(t.region, "ap-south-1");
        assert_eq!(tenant(&HeaderMap::new()).unwrap(), Tenant::default());
    }

    #[test]
    fn a_scope_without_a_valid_region_is_refused_not_served_elsewhere() {
        let long = format!("us-{}-1", "a".repeat(40));
        for region in [
            "EU-WEST-1",
            "eu_west_1",
            "useast1",
            "us-east-",
            "",
            long.as_str(),
        ] {
            let header = format!(
                "AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/appstream/aws4_request"
            );
            let error = tenant(&with_auth(&header)).unwrap_err();
            assert_eq!(error.status, 403, "{region}: {error}");
            assert!(error.message.contains("valid region"), "{}", error.message);
        }
        for region in [
            "us-gov-west-1",
            "ap-southeast-5",
            "il-central-1",
            "cn-north-1",
        ] {
            assert!(is_region(region), "{region}");
        }
    }

    #[test]
    fn sigv4a_takes_its_region_from_the_region_set() {
        let mut headers = with_auth(
            "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/appstream/aws4_request, SignedHeaders=host, Signature=abc",
        );
        let error = tenant(&headers).unwrap_err();
        assert!(error.message.contains("valid region"), "{error}");
        headers.insert("x-amz-region-set", "eu-north-1".parse().unwrap());
        assert_eq!(tenant(&headers).unwrap().region, "eu-north-1");
        headers.insert("x-amz-region-set", "*".parse().unwrap());
        assert!(tenant(&headers).is_err(), "a wildcard names no one Region");
    }

    #[test]
    fn a_malformed_scope_is_a_clear_client_error() {
        let error = tenant(&with_auth("AWS4-HMAC-SHA256 Credential=AKID/x")).unwrap_err();
        assert_eq!(error.code, "IncompleteSignatureException");
        let error = tenant(&with_auth("AWS4-HMAC-SHA256 SignedHeaders=host")).unwrap_err();
        assert_eq!(error.status, 400);
    }
}
