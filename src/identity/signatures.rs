//! SigV4 verification, when `--verify-signatures` asks for it: every API request must be
//! signed for service `appstream` with a known key, within 15 minutes of now, and answers
//! AWS's errors otherwise. The expected signature is computed by `aws-sigv4` over the
//! headers the client says it signed, and compared in constant time.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::http::{HeaderMap, Method, Uri};
use chrono::{DateTime, NaiveDateTime, Utc};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::identity::auth::{parameter, CredentialScope, SERVICE, SIGV4};
use crate::identity::tenant::Tenant;

/// How far a request's time may be from the server's, as AWS allows.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// A key's secret and, when the credentials name one, the account it belongs to.
#[derive(Clone)]
struct Key {
    secret: String,
    account: Option<String>,
}

/// The keys requests may be signed with.
#[derive(Clone, Default)]
pub struct KeyStore {
    keys: HashMap<String, Key>,
}

/// Names the keys, never their secrets.
impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("KeyStore")
            .field("access_key_ids", &ids)
            .finish()
    }
}

impl KeyStore {
    /// Reads a credentials file: lines of `ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID]`;
    /// blank lines and lines starting with `#` are skipped.
    pub fn from_file_text(text: &str) -> Result<KeyStore, String> {
        let mut store = KeyStore::default();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            store
                .add(&fields)
                .map_err(|why| format!("line {}: {why}", number + 1))?;
        }
        store.non_empty()
    }

    /// Reads `AKID:SECRET[:ACCOUNT],...` (the `APPSTREAM_LOCAL_CREDENTIALS` form).
    pub fn from_list(list: &str) -> Result<KeyStore, String> {
        let mut store = KeyStore::default();
        for (index, entry) in list.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            let fields: Vec<&str> = entry.split(':').collect();
            store
                .add(&fields)
                .map_err(|why| format!("entry {}: {why}", index + 1))?;
        }
        store.non_empty()
    }

    fn add(&mut self, fields: &[&str]) -> Result<(), String> {
        let (id, secret, account) = match fields {
            [id, secret] => (id, secret, None),
            [id, secret, account] => (id, secret, Some(account.to_string())),
            _ => return Err("expected ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID]".into()),
        };
        if let Some(account) = &account {
            if !crate::identity::auth::is_account(account) {
                return Err(format!("'{account}' is not a 12-digit account id"));
            }
        }
        self.keys.insert(
            id.to_string(),
            Key {
                secret: secret.to_string(),
                account,
            },
        );
        Ok(())
    }

    fn non_empty(self) -> Result<KeyStore, String> {
        if self.keys.is_empty() {
            Err("no credentials given".into())
        } else {
            Ok(self)
        }
    }

    /// The account a key's requests belong to: the one the credentials name, else the
    /// usual rule (a 12-digit key is the account).
    pub fn account_of(&self, access_key: &str) -> Option<&str> {
        self.keys
            .get(access_key)
            .and_then(|key| key.account.as_deref())
    }
}

/// The parts of a SigV4 Authorization header.
struct Authorization<'a> {
    scope: CredentialScope<'a>,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn missing_token() -> ApiError {
    ApiError::new(
        "MissingAuthenticationTokenException",
        403,
        "Missing Authentication Token",
    )
}

fn parse(headers: &HeaderMap) -> Result<Authorization<'_>, ApiError> {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing_token)?;
    let rest = header
        .strip_prefix(SIGV4)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(missing_token)?;
    let scope = parameter(rest, "Credential")
        .and_then(CredentialScope::parse)
        .ok_or_else(missing_token)?;
    let signed_headers = parameter(rest, "SignedHeaders").ok_or_else(missing_token)?;
    let signature = parameter(rest, "Signature").ok_or_else(missing_token)?;
    Ok(Authorization {
        scope,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

fn mismatch() -> ApiError {
    ApiError::new(
        "InvalidSignatureException",
        403,
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service \
         documentation for details.",
    )
}

fn amz_date(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Checks a request's signature against `keys` at wall-clock time `now` (the emulated
/// clock is for resources; clients sign with real time). Returns the tenant it speaks
/// for.
pub fn verify(
    keys: &KeyStore,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<Tenant, ApiError> {
    let auth = parse(headers)?;
    let key = keys.keys.get(auth.scope.access_key).ok_or_else(|| {
        ApiError::new(
            "UnrecognizedClientException",
            403,
            "The security token included in the request is invalid.",
        )
    })?;
    if auth.scope.service != SERVICE {
        return Err(ApiError::new(
            "InvalidSignatureException",
            403,
            format!("Credential should be scoped to correct service: '{SERVICE}'."),
        ));
    }
    if !crate::identity::auth::is_region(auth.scope.region) {
        return Err(mismatch());
    }
    let stamp = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing_token)?;
    let signed_at = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .map_err(|_| missing_token())?
        .and_utc();
    if !stamp.starts_with(auth.scope.date) {
        return Err(mismatch());
    }
    let now: DateTime<Utc> = now.into();
    if (now - signed_at).num_seconds().abs() > MAX_SKEW_SECONDS {
        let bound = if signed_at < now {
            format!(
                "is now earlier than {} ({} - 15 min.)",
                amz_date(now - chrono::Duration::seconds(MAX_SKEW_SECONDS)),
                amz_date(now)
            )
        } else {
            format!(
                "is now later than {} ({} + 15 min.)",
                amz_date(now + chrono::Duration::seconds(MAX_SKEW_SECONDS)),
                amz_date(now)
            )
        };
        return Err(ApiError::new(
            "InvalidSignatureException",
            403,
            format!("Signature expired: {stamp} {bound}"),
        ));
    }
    if !auth.signed_headers.contains(&"host") {
        return Err(mismatch());
    }
    // Exactly the headers the client signed: the signer adds none of its own choosing.
    let signed: Vec<(&str, &str)> = auth
        .signed_headers
        .iter()
        .map(|name| {
            let value = headers.get(*name).and_then(|v| v.to_str().ok());
            value.map(|v| (*name, v)).ok_or_else(mismatch)
        })
        .collect::<Result<_, _>>()?;
    let identity =
        Credentials::new(auth.scope.access_key, &key.secret, None, None, "verify").into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.scope.region)
        .name(SERVICE)
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(signed_at.timestamp().max(0) as u64))
        .settings(settings)
        .build()
        .map_err(|_| mismatch())?
        .into();
    let request = SignableRequest::new(
        method.as_str(),
        uri.to_string(),
        signed.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|_| mismatch())?;
    let (_, expected) = sign(request, &params).map_err(|_| mismatch())?.into_parts();
    if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        return Err(mismatch());
    }
    let account = keys
        .account_of(auth.scope.access_key)
        .map(str::to_string)
        .unwrap_or_else(|| crate::identity::auth::account_for_key(auth.scope.access_key));
    Ok(Tenant {
        account,
        region: auth.scope.region.to_string(),
    })
}
