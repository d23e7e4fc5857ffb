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
        if !s.starts_with("arn:") {
            return None;
        }
        let (p, n) = split6(s);
        (n == 6).then_some(Arn {
            partition: p[1],
            service: p[2],
            region: p[3],
            account: p[4],
            resource: p[5],
        })
    }
}

/// `s.splitn(6, ':')` into an array, and how many parts there are: the
/// engine splits ARNs on every decision, and a byte loop does it in a
/// fraction of the pattern-searcher's time.
#[inline]
pub fn split6(s: &str) -> ([&str; 6], usize) {
    let mut parts: [&str; 6] = [""; 6];
    let b = s.as_bytes();
    let (mut n, mut start) = (0usize, 0usize);
    for (i, &c) in b.iter().enumerate() {
        if c == b':' {
            // ':' is ASCII, so i and i + 1 are character boundaries
            parts[n] = &s[start..i];
            n += 1;
            start = i + 1;
            if n == 5 {
                break;
            }
        }
    }
    parts[n] = &s[start..];
    (parts, n + 1)
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
mod split_tests {
    use super::split6;

    #[test]
    fn split6_is_splitn_6() {
        for s in [
            "",
            "arn",
            "arn:",
            "a:b",
            "arn:aws:s3:::bucket/key:with:colons",
            "arn:aws:kms:us-west-2:111122223333:key/x",
            ":::::",
            "::::::::",
            "é:ü:ß",
        ] {
            let want: Vec<&str> = s.splitn(6, ':').collect();
            let (parts, n) = split6(s);
            assert_eq!(&parts[..n], want.as_slice(), "{s:?}");
        }
    }
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
