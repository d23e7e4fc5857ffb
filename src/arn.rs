//! ARN parts: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` (the resource part
//! keeps its own colons).

/// The parts of an ARN, when the text has all six.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut it = s.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: it.next()?,
            service: it.next()?,
            region: it.next()?,
            account: it.next()?,
            resource: it.next()?,
        })
    }
}

/// The account part of an ARN, when present.
pub fn account(s: &str) -> Option<&str> {
    Arn::parse(s).map(|a| a.account).filter(|a| !a.is_empty())
}

/// The region part of an ARN, when present.
pub fn region(s: &str) -> Option<&str> {
    Arn::parse(s).map(|a| a.region).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let a = Arn::parse("arn:aws:kms:us-west-2:111111111111:key/abc").unwrap();
        assert_eq!(
            (a.service, a.region, a.account, a.resource),
            ("kms", "us-west-2", "111111111111", "key/abc")
        );
        assert_eq!(Arn::parse("arn:aws:s3:::b/k:x").unwrap().resource, "b/k:x");
        assert!(Arn::parse("arn:aws:s3").is_none());
        assert_eq!(account("arn:aws:s3:::b"), None);
    }
}
