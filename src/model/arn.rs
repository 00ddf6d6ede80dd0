//! AppStream ARNs: `arn:aws:appstream:<region>:<account>:<type>/<name>`.

use crate::identity::tenant::Tenant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub region: String,
    pub account: String,
    pub resource_type: String,
    pub name: String,
}

pub fn resource_arn(tenant: &Tenant, resource_type: &str, name: &str) -> String {
    format!(
        "arn:aws:appstream:{}:{}:{resource_type}/{name}",
        tenant.region, tenant.account
    )
}

impl Arn {
    /// Parses an AppStream resource ARN; anything else (another service, no
    /// `type/name`) is None.
    pub fn parse(arn: &str) -> Option<Arn> {
        let mut parts = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some("appstream"),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        if !partition.starts_with("aws") {
            return None;
        }
        let (resource_type, name) = resource.split_once('/')?;
        Some(Arn {
            region: region.into(),
            account: account.into(),
            resource_type: resource_type.into(),
            name: name.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_stack_arns() {
        let tenant = Tenant {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
        };
        let arn = resource_arn(&tenant, "stack", "my.stack");
        assert_eq!(
            arn,
            "arn:aws:appstream:eu-west-1:123456789012:stack/my.stack"
        );
        let parsed = Arn::parse(&arn).unwrap();
        assert_eq!(parsed.resource_type, "stack");
        assert_eq!(parsed.name, "my.stack");
        assert!(Arn::parse("arn:aws:s3:::bucket").is_none());
    }
}
