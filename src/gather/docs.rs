//! Policy documents as gathered: the exact text AWS returned (IAM's decoded
//! from its URL encoding), parsed with the same options, pointers and titles
//! as the snapshot loader, so that evidence points at the same places whether
//! a snapshot was read live or from a file.

use crate::json::pointer_token;
use crate::policy::{ParseOptions, PolicyKind, parse_text};
use crate::snapshot::model::{PolicyDoc, RawPolicy};

pub fn ptr(base: &str, token: &str) -> String {
    format!("{base}/{}", pointer_token(token))
}

pub fn account_ptr(account: &str) -> String {
    ptr("/accounts", account)
}

pub fn bucket_ptr(account: &str, bucket: &str) -> String {
    ptr(&ptr(&account_ptr(account), "buckets"), bucket)
}

pub fn key_ptr(account: &str, arn: &str) -> String {
    ptr(&ptr(&account_ptr(account), "keys"), arn)
}

pub fn role_ptr(account: &str, name: &str) -> String {
    ptr(&ptr(&account_ptr(account), "roles"), name)
}

fn doc(text: String, pointer: String, title: String, opts: &ParseOptions) -> PolicyDoc {
    let policy = parse_text(&format!("{title} ({pointer})"), &text, opts);
    PolicyDoc {
        policy,
        raw: RawPolicy::Text(text),
        pointer,
        title,
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986); S3 and KMS do not.
pub fn iam_decode(text: &str) -> String {
    match percent_encoding::percent_decode_str(text).decode_utf8() {
        Ok(s) => s.into_owned(),
        Err(_) => text.to_string(),
    }
}

pub fn bucket_policy(account: &str, bucket: &str, text: String) -> PolicyDoc {
    doc(
        text,
        ptr(&bucket_ptr(account, bucket), "policy"),
        format!("bucket policy of {bucket}"),
        &ParseOptions::bucket(bucket),
    )
}

pub fn key_policy(account: &str, arn: &str, text: String) -> PolicyDoc {
    doc(
        text,
        ptr(&key_ptr(account, arn), "policy"),
        format!("key policy of {arn}"),
        &ParseOptions::new(PolicyKind::Key),
    )
}

pub fn trust_policy(account: &str, role: &str, text: String) -> PolicyDoc {
    doc(
        text,
        ptr(&role_ptr(account, role), "trust_policy"),
        format!("trust policy of role {role}"),
        &ParseOptions::new(PolicyKind::Trust),
    )
}

pub fn inline_policy(account: &str, role: &str, name: &str, text: String) -> PolicyDoc {
    doc(
        text,
        ptr(&ptr(&role_ptr(account, role), "inline_policies"), name),
        format!("inline policy {name} of role {role}"),
        &ParseOptions::new(PolicyKind::Identity),
    )
}

pub fn managed_policy(account: &str, role: &str, arn: &str, text: String) -> PolicyDoc {
    doc(
        text,
        ptr(&ptr(&role_ptr(account, role), "managed_policies"), arn),
        format!("managed policy {arn} attached to role {role}"),
        &ParseOptions::new(PolicyKind::Identity),
    )
}

pub fn boundary(account: &str, role: &str, text: String) -> PolicyDoc {
    doc(
        text,
        ptr(&role_ptr(account, role), "permissions_boundary"),
        format!("permissions boundary of role {role}"),
        &ParseOptions::new(PolicyKind::Boundary),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_documents_are_decoded() {
        assert_eq!(
            iam_decode("%7B%22Version%22%3A%222012-10-17%22%7D"),
            "{\"Version\":\"2012-10-17\"}"
        );
        // a document that is not encoded stays as it is
        assert_eq!(iam_decode("{\"a\": 1}"), "{\"a\": 1}");
    }

    #[test]
    fn pointers_escape_arns() {
        assert_eq!(
            managed_policy(
                "222222222222",
                "R",
                "arn:aws:iam::222222222222:policy/a/b",
                "{}".into()
            )
            .pointer,
            "/accounts/222222222222/roles/R/managed_policies/arn:aws:iam::222222222222:policy~1a~1b"
        );
    }

    /// A gathered document and the same document loaded from a snapshot file
    /// are the same: parsed alike, same pointer, same title.
    #[test]
    fn gathered_documents_equal_loaded_ones() {
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-data/*"}]}"#;
        let id = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let key = "arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34";
        let managed = "arn:aws:iam::222222222222:policy/path/Copy";
        let s = |t: &str| serde_json::Value::String(t.to_string());
        let text = serde_json::json!({
            "format": "xacct-snapshot/1",
            "copy": {"source": "s3://alice-data", "destination": "s3://bob-data",
                     "principal": "arn:aws:iam::222222222222:role/R"},
            "accounts": {
                "111111111111": {
                    "buckets": {"alice-data": {"policy": s(p)}},
                    "keys": {key: {"policy": s(p)}}
                },
                "222222222222": {
                    "roles": {"R": {
                        "trust_policy": s(p),
                        "inline_policies": {"in/line": s(id)},
                        "managed_policies": {managed: s(id)},
                        "permissions_boundary": s(id)
                    }}
                }
            }
        })
        .to_string();
        let snap = crate::snapshot::load_str("t", &text).expect("loads");
        let a = &snap.accounts["111111111111"];
        let bucket = a.buckets["alice-data"].value().expect("bucket");
        assert_eq!(
            bucket.policy.value().and_then(|d| d.as_ref()),
            Some(&bucket_policy("111111111111", "alice-data", p.into()))
        );
        let k = a.keys[key].value().expect("key");
        assert_eq!(
            k.policy.value().and_then(|d| d.as_ref()),
            Some(&key_policy("111111111111", key, p.into()))
        );
        let r = snap.accounts["222222222222"].roles["R"]
            .value()
            .expect("role");
        assert_eq!(
            r.trust_policy.value(),
            Some(&trust_policy("222222222222", "R", p.into()))
        );
        assert_eq!(
            r.inline_policies.value().and_then(|m| m["in/line"].value()),
            Some(&inline_policy("222222222222", "R", "in/line", id.into()))
        );
        assert_eq!(
            r.managed_policies.value().and_then(|m| m[managed].value()),
            Some(&managed_policy("222222222222", "R", managed, id.into()))
        );
        assert_eq!(
            r.permissions_boundary.value().and_then(|d| d.as_ref()),
            Some(&boundary("222222222222", "R", id.into()))
        );
    }
}
