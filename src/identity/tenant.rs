//! The key of all state: one account in one Region. Where it comes from (the request's
//! credentials) is the auth layer's business; everything below only keys state by it.

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
