//! Is a bucket policy "public" in S3's sense (S3 User Guide, Blocking public
//! access, "The meaning of public")? A statement is non-public when it grants
//! only to fixed principals, or when `"*"` is narrowed by a fixed value of one
//! of the keys S3 lists. With RestrictPublicBuckets on, a public policy admits
//! only service principals and the bucket owner's own account.

use super::condition::OpBase;
use super::model::{Effect, Policy, PrincipalType, Statement};

/// Keys whose fixed values make a `"*"` grant non-public.
const FIXING_KEYS: [&str; 12] = [
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
    "aws:sourceip",
];

fn fixed(v: &str) -> bool {
    !v.contains(['*', '?']) && !v.contains("${")
}

/// A value of `aws:SourceIp` is fixed enough when its block is no wider than /8
/// (IPv4) or /32 (IPv6).
fn narrow_cidr(v: &str) -> bool {
    match v.split_once('/') {
        None => true,
        Some((ip, bits)) => {
            let bits: u8 = bits.parse().unwrap_or(0);
            if ip.contains(':') {
                bits >= 32
            } else {
                bits >= 8
            }
        }
    }
}

fn statement_is_public(st: &Statement) -> bool {
    if st.effect != Some(Effect::Allow) {
        return false;
    }
    let Some(p) = &st.principal else { return false };
    let wildcard = p.negated
        || p.any
        || p.entries.iter().any(|e| {
            e.kind == PrincipalType::Aws && (e.value == "*" || e.value.contains(['*', '?']))
        });
    if !wildcard {
        return false;
    }
    // a positive, fixed-value condition on one of the listed keys makes it non-public
    let narrowed = st.conditions.iter().any(|c| {
        FIXING_KEYS.contains(&c.key_lc.as_str())
            && !c.operator.base.is_negated()
            && !c.operator.if_exists
            && c.operator.set.is_none()
            && !matches!(c.operator.base, OpBase::Null)
            && !c.texts.is_empty()
            && c.texts.iter().all(|v| {
                if c.key_lc == "aws:sourceip" {
                    narrow_cidr(v)
                } else {
                    fixed(v)
                }
            })
    });
    !narrowed
}

/// The first public statement of a policy, if it has one.
pub fn public_statement(p: &Policy) -> Option<&Statement> {
    p.statements.iter().find(|s| statement_is_public(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ParseOptions, parse_text};

    fn policy(stmt: &str) -> Policy {
        parse_text(
            "t",
            &format!(r#"{{"Version":"2012-10-17","Statement":[{stmt}]}}"#),
            &ParseOptions::bucket("b"),
        )
    }

    #[test]
    fn public_and_not() {
        let p = policy(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        );
        assert!(public_statement(&p).is_some());
        let p = policy(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}"#,
        );
        assert!(public_statement(&p).is_none());
        let p = policy(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}}"#,
        );
        assert!(public_statement(&p).is_some());
        let p = policy(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        );
        assert!(public_statement(&p).is_none());
        let p = policy(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
        );
        assert!(public_statement(&p).is_none());
    }
}
