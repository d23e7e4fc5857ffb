//! Evidence for findings that are not about a policy statement (key state,
//! object metadata, bucket settings, probes): point at the place in the
//! snapshot that the finding names, so every report format can locate it.

use crate::json::pointer_token;
use crate::snapshot::model::{Field, Snapshot};

use super::ctx::pointer_evidence;
use super::{Evidence, Finding, Status};

fn account_of(s: &Snapshot, bucket: &str) -> Option<String> {
    s.bucket_account(bucket).map(str::to_string)
}

fn bucket_ptr(s: &Snapshot, bucket: &str) -> Option<String> {
    let a = account_of(s, bucket)?;
    Some(format!("/accounts/{a}/buckets/{}", pointer_token(bucket)))
}

/// Every place the finding's text names: objects, keys, the role, probes.
fn mentioned(s: &Snapshot, f: &Finding) -> Vec<Evidence> {
    let text = std::iter::once(f.message.as_str())
        .chain(f.details.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let src = &s.copy.source.bucket;
    let dst = &s.copy.destination.bucket;
    // objects of the source sample
    if let Some((acct, Field::Value(b))) = s.bucket(src).map(|(a, b)| (a.to_string(), b))
        && let Field::Value(objs) = &b.objects
    {
        for key in objs.keys() {
            if text.contains(key.as_str()) {
                out.push(pointer_evidence(
                    format!("object {key} of {src}"),
                    Some(acct.clone()),
                    format!(
                        "/accounts/{acct}/buckets/{}/objects/{}",
                        pointer_token(src),
                        pointer_token(key)
                    ),
                    "the object as HeadObject saw it".into(),
                ));
            }
        }
        if b.census.is_some() && text.contains("census") {
            out.push(pointer_evidence(
                format!("census of {src}"),
                Some(acct.clone()),
                format!("/accounts/{acct}/buckets/{}/census", pointer_token(src)),
                "the full sweep of the source prefix".into(),
            ));
        }
    }
    // keys, by ARN
    for (acct, a) in &s.accounts {
        for arn in a.keys.keys() {
            if text.contains(arn.as_str()) {
                out.push(pointer_evidence(
                    format!("key {arn}"),
                    Some(acct.clone()),
                    format!("/accounts/{acct}/keys/{}", pointer_token(arn)),
                    "the key as DescribeKey saw it".into(),
                ));
            }
        }
    }
    // the probes, by target
    for (i, p) in s.probes.iter().enumerate() {
        if !p.target.is_empty()
            && text.contains(p.target.as_str())
            && text.contains(p.call.as_str())
        {
            out.push(pointer_evidence(
                format!("probe {} on {}", p.call, p.target),
                None,
                format!("/probes/{i}"),
                "the probe's recorded outcome".into(),
            ));
        }
    }
    // the settings a check is about
    let setting = |bucket: &str, field: &str, note: &str| {
        bucket_ptr(s, bucket).map(|p| {
            pointer_evidence(
                format!("{field} of {bucket}"),
                account_of(s, bucket),
                format!("{p}/{field}"),
                note.to_string(),
            )
        })
    };
    match f.id {
        "XA010" => out.extend(setting(
            dst,
            "encryption",
            "the destination's default encryption",
        )),
        "XA016" => out.extend(setting(
            src,
            "requester_pays",
            "the source's Requester Pays setting",
        )),
        "XA011" if text.contains("BucketOwnerEnforced") && text.contains(dst.as_str()) => out
            .extend(setting(
                dst,
                "ownership",
                "the destination's Object Ownership",
            )),
        "XA011" if out.is_empty() => {
            out.extend(setting(src, "ownership", "the source's Object Ownership"))
        }
        "XA001" => {
            let b = crate::snapshot::load::role_account(&s.copy.principal).unwrap_or("");
            let name = s.copy.principal.rsplit('/').next().unwrap_or("");
            if s.accounts
                .get(b)
                .is_some_and(|a| a.roles.contains_key(name))
            {
                out.push(pointer_evidence(
                    format!("role {name}"),
                    Some(b.to_string()),
                    format!("/accounts/{b}/roles/{}", pointer_token(name)),
                    "the role as GetRole saw it".into(),
                ));
            }
        }
        _ => {}
    }
    out.dedup_by(|a, b| a.pointer == b.pointer);
    out
}

/// Give evidence to findings that have none but name a place in the snapshot.
pub fn attach(s: &Snapshot, findings: &mut [Finding]) {
    for f in findings.iter_mut() {
        if f.evidence.is_empty()
            && matches!(f.status, Status::Fail | Status::Unknown | Status::Warn)
        {
            f.evidence = mentioned(s, f);
        }
    }
}
