//! Streaming URLs that open on the emulator itself. A URL's query carries one signed
//! grant, `parameters` (the grant, encoded) and `signature` (its HMAC-SHA256 under a key
//! made when the process starts): it says which session or builder it opens, in which
//! account and Region, and until when. Nothing but this process can make one, a changed
//! byte makes it invalid, and it is refused once its time has passed on the emulated
//! clock. A URL opened once leads to the session's page, whose own grant lasts as long
//! as the session can.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Where a streaming URL points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStyle {
    /// At the emulator, reached as the client reached it (or at `--streaming-url-base`).
    Emulator,
    /// At AWS's sign-in host, as the real service answers, for clients that parse it.
    Aws,
}

/// What a grant opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Target {
    /// A fleet streaming session, by session id.
    Session(String),
    /// An image builder, by name.
    ImageBuilder(String),
    /// An app block builder, by name.
    AppBlockBuilder(String),
}

/// Which of the two URLs a grant belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The URL an API call returned; opening it connects.
    Entry,
    /// The page it leads to, which refreshes and acts without connecting again.
    Page,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub account: String,
    pub region: String,
    #[serde(flatten)]
    pub target: Target,
    /// Epoch seconds (with the milliseconds the API reports) after which the grant is
    /// refused: compared exactly, never rounded to whole seconds.
    pub expires: f64,
    pub stage: Stage,
    /// The application a session opens with (CreateStreamingURL's ApplicationId).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// A builder's CreatedTime when the grant was made: a builder deleted and made again
    /// under the same name is another instance, which the grant does not open. (A
    /// session's id is never reused, so sessions need none.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<f64>,
}

impl Grant {
    /// Whether the grant opens a builder created at `created`: the instance it was made
    /// for, not a later one of the same name.
    pub fn opens(&self, created: Option<f64>) -> bool {
        self.instance.is_none() || self.instance == created
    }

    /// The account and Region the grant opens something in.
    pub fn tenant(&self) -> crate::identity::tenant::Tenant {
        crate::identity::tenant::Tenant {
            account: self.account.clone(),
            region: self.region.clone(),
        }
    }
}

/// A grant as a URL carries it: `parameters` (the grant, base64url) and `signature`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Signed {
    pub parameters: String,
    pub signature: String,
}

impl Signed {
    /// `parameters=...&signature=...`. Both are base64url once opened, so URL-safe as
    /// they are.
    pub fn query(&self) -> String {
        format!(
            "parameters={}&signature={}",
            self.parameters, self.signature
        )
    }
}

/// Why a URL's grant was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or not of the form this process makes.
    Malformed,
    /// Its signature is not this process's: forged, changed, or from another run.
    Forged,
    Expired,
}

/// The per-process signing key and where URLs point; part of the server's settings.
#[derive(Clone)]
pub struct StreamingUrls {
    /// With `--streaming-url-base`, the scheme, host and port URLs start with.
    pub base: Option<String>,
    pub style: UrlStyle,
    key: [u8; 32],
}

impl std::fmt::Debug for StreamingUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingUrls")
            .field("base", &self.base)
            .field("style", &self.style)
            .field("key", &"***")
            .finish()
    }
}

impl Default for StreamingUrls {
    fn default() -> Self {
        StreamingUrls {
            base: None,
            style: UrlStyle::Emulator,
            key: rand::random(),
        }
    }
}

impl StreamingUrls {
    /// The host (and port) of `--streaming-url-base`, a name the server answers to.
    pub fn base_host(&self) -> Option<&str> {
        Some(self.base.as_deref()?.split_once("://")?.1)
    }
}

/// Where URLs point when no base is set and the request named no usable host.
const FALLBACK_BASE: &str = "http://localhost:4599";

impl StreamingUrls {
    /// The URL that opens `grant`. `host` is the Host header of the request that asked
    /// for it; a value that is not a plain host and port is ignored.
    pub fn url(&self, host: Option<&str>, grant: &Grant) -> String {
        let base = match (self.style, &self.base) {
            (UrlStyle::Aws, _) => format!("https://appstream2.{}.aws.amazon.com", grant.region),
            (UrlStyle::Emulator, Some(base)) => base.trim_end_matches('/').to_string(),
            (UrlStyle::Emulator, None) => match host.filter(|h| is_host(h)) {
                Some(host) => format!("http://{host}"),
                None => FALLBACK_BASE.to_string(),
            },
        };
        let path = match grant.stage {
            Stage::Entry => "/authenticate",
            Stage::Page => "/streaming",
        };
        format!("{base}{path}?{}", self.sign(grant).query())
    }

    /// `grant`, encoded and signed.
    pub fn sign(&self, grant: &Grant) -> Signed {
        let parameters = URL_SAFE_NO_PAD.encode(serde_json::to_vec(grant).unwrap_or_default());
        let signature =
            URL_SAFE_NO_PAD.encode(self.mac(parameters.as_bytes()).finalize().into_bytes());
        Signed {
            parameters,
            signature,
        }
    }

    /// The grant `signed` carries, if this process signed it and its time (epoch seconds
    /// `now`) has not passed.
    pub fn open(&self, signed: &Signed, now: f64) -> Result<Grant, Refusal> {
        let signature = URL_SAFE_NO_PAD
            .decode(&signed.signature)
            .map_err(|_| Refusal::Malformed)?;
        self.mac(signed.parameters.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| Refusal::Forged)?;
        let grant: Grant = URL_SAFE_NO_PAD
            .decode(&signed.parameters)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(Refusal::Malformed)?;
        if now > grant.expires {
            return Err(Refusal::Expired);
        }
        Ok(grant)
    }

    fn mac(&self, message: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes a key of any size");
        mac.update(message);
        mac
    }
}

/// A `--streaming-url-base`: `http://` or `https://` and a host with an optional port,
/// nothing after it (the pages' buttons post to absolute paths). Returns it without a
/// trailing slash.
pub fn checked_base(base: &str) -> Result<String, String> {
    let trimmed = base.trim_end_matches('/');
    let host = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"));
    match host {
        Some(host) if is_host(host) => Ok(trimmed.to_string()),
        _ => Err(format!(
            "'{base}' is not http:// or https:// followed by a host and optional port, e.g. http://appstream:4599"
        )),
    }
}

/// A host name or address with an optional port, nothing else (no path, user or space).
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires: f64) -> Grant {
        Grant {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            target: Target::Session("s-1".into()),
            expires,
            stage: Stage::Entry,
            application: None,
            instance: None,
        }
    }

    fn split(url: &str) -> Signed {
        let query = url.split_once('?').unwrap().1;
        let (p, s) = query.split_once('&').unwrap();
        Signed {
            parameters: p.strip_prefix("parameters=").unwrap().to_string(),
            signature: s.strip_prefix("signature=").unwrap().to_string(),
        }
    }

    #[test]
    fn a_url_opens_until_it_expires_and_only_in_its_process() {
        let urls = StreamingUrls::default();
        let url = urls.url(Some("localhost:4599"), &grant(1000.0));
        assert!(url.starts_with("http://localhost:4599/authenticate?parameters="));
        let signed = split(&url);
        assert_eq!(urls.open(&signed, 999.5), Ok(grant(1000.0)));
        assert_eq!(urls.open(&signed, 1000.5), Err(Refusal::Expired));
        // A fraction of a second counts: a URL valid until 1000.75 opens at 1000.5.
        let fractional = split(&urls.url(None, &grant(1000.75)));
        assert_eq!(urls.open(&fractional, 1000.5), Ok(grant(1000.75)));
        assert_eq!(urls.open(&fractional, 1000.751), Err(Refusal::Expired));
        assert_eq!(
            StreamingUrls::default().open(&signed, 0.0),
            Err(Refusal::Forged)
        );
        // A grant changed to last longer is refused.
        let longer = Signed {
            parameters: split(&urls.url(None, &grant(9999.0))).parameters,
            ..signed.clone()
        };
        assert_eq!(urls.open(&longer, 0.0), Err(Refusal::Forged));
        let garbled = Signed {
            signature: "not base64!".into(),
            ..signed
        };
        assert_eq!(urls.open(&garbled, 0.0), Err(Refusal::Malformed));
    }

    #[test]
    fn a_base_is_a_scheme_and_a_host() {
        assert_eq!(
            checked_base("http://appstream:4599/").as_deref(),
            Ok("http://appstream:4599")
        );
        assert!(checked_base("https://streams.example.com").is_ok());
        for bad in [
            "appstream:4599",
            "ftp://x",
            "http://",
            "http://x/path",
            "http://a b",
        ] {
            assert!(checked_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_base_comes_from_the_flag_the_host_or_aws() {
        let mut urls = StreamingUrls::default();
        let g = grant(1.0);
        assert!(urls
            .url(Some("evil.com/x?"), &g)
            .starts_with("http://localhost:4599/"));
        assert!(urls
            .url(Some("[::1]:8080"), &g)
            .starts_with("http://[::1]:8080/"));
        urls.base = Some("https://streams.test:8443/".into());
        assert!(urls
            .url(Some("ignored"), &g)
            .starts_with("https://streams.test:8443/authenticate?"));
        urls.style = UrlStyle::Aws;
        assert!(urls
            .url(None, &g)
            .starts_with("https://appstream2.us-east-1.aws.amazon.com/authenticate?parameters="));
    }
}
