//! S3: a bucket as its owner reads it (region, policy, default encryption,
//! ownership controls, public access block, Requester Pays, owner's canonical
//! id), and the objects as the role (or A) lists and heads them.

use std::collections::BTreeMap;

use futures::StreamExt;

use super::aws::Account;
use super::docs;
use super::fail::Failure;
use crate::snapshot::model::{
    Bucket, Census, Encryption, Field, Object, Outcome, Probe, PublicAccessBlock,
};

/// Where a bucket is, from HeadBucket (its region even when the answer is 403
/// or a redirect). `Err` when the bucket does not exist or HeadBucket failed
/// without naming a region.
pub async fn head_bucket(who: &Account, bucket: &str) -> (Option<String>, Result<(), Failure>) {
    let first = match who.s3(None).head_bucket().bucket(bucket).send().await {
        Ok(out) => return (out.bucket_region().map(str::to_string), Ok(())),
        Err(e) => Failure::from_sdk(&e).not_found_as("NoSuchBucket"),
    };
    // a bucket of another region answers with a redirect that names it: ask there
    match first.bucket_region.clone() {
        Some(r) if r != who.region() && matches!(first.status, Some(301 | 400)) => {
            match who.s3(Some(&r)).head_bucket().bucket(bucket).send().await {
                Ok(_) => (Some(r), Ok(())),
                Err(e) => {
                    let f = Failure::from_sdk(&e).not_found_as("NoSuchBucket");
                    (f.bucket_region.clone().or(Some(r)), Err(f))
                }
            }
        }
        region => (region, Err(first)),
    }
}

/// A bucket as its owner reads it. Also returns the owner's canonical id
/// (GetBucketAcl), which tells whose objects are whose.
pub async fn read_bucket(
    owner: &Account,
    name: &str,
    source: bool,
) -> (Field<Bucket>, Option<String>, Vec<String>) {
    let mut notes = Vec::new();
    let (region, head) = head_bucket(owner, name).await;
    if let Err(f) = &head
        && (f.is("NoSuchBucket") || region.is_none())
    {
        return (Field::Unreadable(f.marker("s3:HeadBucket")), None, notes);
    }
    let s3 = owner.s3(region.as_deref());
    let acct = owner.account.as_str();
    let policy = async {
        match s3.get_bucket_policy().bucket(name).send().await {
            Ok(out) => Field::Value(
                out.policy()
                    .map(|p| docs::bucket_policy(acct, name, p.to_string())),
            ),
            Err(e) => {
                let f = Failure::from_sdk(&e);
                if f.is("NoSuchBucketPolicy") {
                    Field::Value(None)
                } else {
                    Field::Unreadable(f.marker("s3:GetBucketPolicy"))
                }
            }
        }
    };
    let encryption = async {
        match s3.get_bucket_encryption().bucket(name).send().await {
            Ok(out) => {
                let rule = out
                    .server_side_encryption_configuration()
                    .and_then(|c| c.rules().first());
                Field::Value(rule.and_then(|r| {
                    r.apply_server_side_encryption_by_default()
                        .map(|d| Encryption {
                            algorithm: d.sse_algorithm().as_str().to_string(),
                            kms_key: d.kms_master_key_id().map(str::to_string),
                            bucket_key: Some(r.bucket_key_enabled().unwrap_or(false)),
                        })
                }))
            }
            Err(e) => {
                let f = Failure::from_sdk(&e);
                if f.is("ServerSideEncryptionConfigurationNotFoundError") {
                    Field::Value(None)
                } else {
                    Field::Unreadable(f.marker("s3:GetEncryptionConfiguration"))
                }
            }
        }
    };
    let ownership = async {
        match s3.get_bucket_ownership_controls().bucket(name).send().await {
            Ok(out) => Field::Value(
                out.ownership_controls()
                    .and_then(|c| c.rules().first())
                    .map(|r| r.object_ownership().as_str().to_string()),
            ),
            Err(e) => {
                let f = Failure::from_sdk(&e);
                if f.is("OwnershipControlsNotFoundError") {
                    Field::Value(None)
                } else {
                    Field::Unreadable(f.marker("s3:GetBucketOwnershipControls"))
                }
            }
        }
    };
    let pab =
        async {
            match s3.get_public_access_block().bucket(name).send().await {
                Ok(out) => Field::Value(out.public_access_block_configuration().map(|c| {
                    PublicAccessBlock {
                        block_public_acls: c.block_public_acls(),
                        ignore_public_acls: c.ignore_public_acls(),
                        block_public_policy: c.block_public_policy(),
                        restrict_public_buckets: c.restrict_public_buckets(),
                    }
                })),
                Err(e) => {
                    let f = Failure::from_sdk(&e);
                    if f.is("NoSuchPublicAccessBlockConfiguration") {
                        Field::Value(None)
                    } else {
                        Field::Unreadable(f.marker("s3:GetBucketPublicAccessBlock"))
                    }
                }
            }
        };
    let payer = async {
        if !source {
            return Field::NotRead;
        }
        match s3.get_bucket_request_payment().bucket(name).send().await {
            Ok(out) => match out.payer() {
                Some(p) => Field::Value(p.as_str() == "Requester"),
                None => Field::Unreadable(crate::snapshot::model::Unreadable {
                    call: "s3:GetBucketRequestPayment".into(),
                    error: "NoPayer".into(),
                    message: "the answer named no Payer".into(),
                }),
            },
            Err(e) => Field::Unreadable(Failure::from_sdk(&e).marker("s3:GetBucketRequestPayment")),
        }
    };
    let acl = async {
        match s3.get_bucket_acl().bucket(name).send().await {
            Ok(out) => Ok(out.owner().and_then(|o| o.id()).map(str::to_string)),
            Err(e) => Err(Failure::from_sdk(&e)),
        }
    };
    let (policy, encryption, ownership, public_access_block, requester_pays, acl) =
        tokio::join!(policy, encryption, ownership, pab, payer, acl);
    let canonical = match acl {
        Ok(c) => c,
        Err(f) => {
            notes.push(format!(
                "the owner of {name} could not be identified (s3:GetBucketAcl failed: {}), so object owners are not named",
                f.code
            ));
            None
        }
    };
    let bucket = Bucket {
        name: name.to_string(),
        pointer: docs::bucket_ptr(acct, name),
        region,
        policy,
        encryption,
        ownership,
        requester_pays,
        public_access_block,
        census: None,
        objects: Field::NotRead,
    };
    (Field::Value(bucket), canonical, notes)
}

/// Objects as listed and headed; owners are canonical ids until mapped.
pub struct Sample {
    pub objects: Field<BTreeMap<String, Field<Object>>>,
    pub probes: Vec<Probe>,
    pub census: Option<RawCensus>,
}

/// A census before owners are known: counts by canonical owner id.
#[derive(Default)]
pub struct RawCensus {
    pub census: Census,
    pub owners: BTreeMap<String, (u64, Vec<String>)>,
}

struct Listed {
    key: String,
    size: Option<u64>,
    owner: Option<String>,
    storage_class: Option<String>,
}

fn probe(who: &Account, call: &str, target: String, detail: String, outcome: Outcome) -> Probe {
    Probe {
        as_principal: Some(who.arn.clone()),
        call: call.into(),
        target,
        detail: Some(detail),
        outcome,
    }
}

/// List under the prefix: up to `limit` keys (all of them when `None`).
#[allow(clippy::too_many_arguments)]
async fn list(
    who: &Account,
    as_probe: bool,
    payer: bool,
    bucket: &str,
    prefix: &str,
    region: Option<&str>,
    limit: Option<usize>,
    probes: &mut Vec<Probe>,
) -> Result<Vec<Listed>, Failure> {
    let s3 = who.s3(region);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = limit.map(|n| (n - out.len()).clamp(1, 1000) as i32);
        let mut req = s3
            .list_objects_v2()
            .bucket(bucket)
            .fetch_owner(true)
            .set_max_keys(page);
        if payer {
            req = req.request_payer(aws_sdk_s3::types::RequestPayer::Requester);
        }
        if !prefix.is_empty() {
            req = req.prefix(prefix);
        }
        if let Some(t) = &token {
            req = req.continuation_token(t);
        }
        let res = req.send().await;
        if as_probe {
            let detail = format!(
                "ListObjectsV2 MaxKeys={} FetchOwner=true{}{}",
                page.unwrap_or(1000),
                if prefix.is_empty() {
                    String::new()
                } else {
                    format!(" Prefix={prefix}")
                },
                if token.is_some() { " (next page)" } else { "" }
            );
            let outcome = match &res {
                Ok(_) => Outcome::Ok,
                Err(e) => Failure::from_sdk(e).outcome(),
            };
            // one probe for the first page, and for any page that fails
            if token.is_none() || !matches!(outcome, Outcome::Ok) {
                probes.push(probe(
                    who,
                    "s3:ListBucket",
                    format!("arn:aws:s3:::{bucket}"),
                    detail,
                    outcome,
                ));
            }
        }
        let res = res.map_err(|e| Failure::from_sdk(&e))?;
        for o in res.contents() {
            let Some(key) = o.key() else { continue };
            out.push(Listed {
                key: key.to_string(),
                size: o.size().and_then(|s| u64::try_from(s).ok()),
                owner: o.owner().and_then(|w| w.id()).map(str::to_string),
                storage_class: o.storage_class().map(|c| c.as_str().to_string()),
            });
        }
        token = res.next_continuation_token().map(str::to_string);
        let full = limit.is_some_and(|n| out.len() >= n);
        if token.is_none() || !res.is_truncated().unwrap_or(false) || full {
            break;
        }
    }
    Ok(out)
}

fn restore_state(header: Option<&str>) -> Option<String> {
    let h = header?;
    if h.contains("ongoing-request=\"true\"") {
        Some("ongoing".into())
    } else {
        Some("completed".into())
    }
}

/// HeadObject: what the copy will meet (encryption, key, Bucket Key, storage class, restore).
async fn head(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    l: &Listed,
    payer: bool,
) -> Result<Object, Failure> {
    let mut req = s3.head_object().bucket(bucket).key(&l.key);
    if payer {
        req = req.request_payer(aws_sdk_s3::types::RequestPayer::Requester);
    }
    let out = req.send().await.map_err(|e| {
        let mut f = Failure::from_sdk(&e).not_found_as("NoSuchKey");
        if f.status == Some(400) && f.message.is_empty() {
            f.message = "HeadObject answered 400 Bad Request, as S3 does for an SSE-C object read without its key".into();
        }
        f
    })?;
    let encryption = if out.sse_customer_algorithm().is_some() {
        Some(Encryption {
            algorithm: "SSE-C".into(),
            kms_key: None,
            bucket_key: None,
        })
    } else {
        out.server_side_encryption().map(|sse| {
            let alg = sse.as_str().to_string();
            let kms = alg.starts_with("aws:kms");
            Encryption {
                kms_key: if kms {
                    out.ssekms_key_id().map(str::to_string)
                } else {
                    None
                },
                bucket_key: if kms {
                    Some(out.bucket_key_enabled().unwrap_or(false))
                } else {
                    None
                },
                algorithm: alg,
            }
        })
    };
    Ok(Object {
        size: out
            .content_length()
            .and_then(|s| u64::try_from(s).ok())
            .or(l.size),
        encryption,
        owner: l.owner.clone(),
        // S3 sends no storage class header for STANDARD
        storage_class: Some(
            out.storage_class()
                .map(|c| c.as_str().to_string())
                .or_else(|| l.storage_class.clone())
                .unwrap_or_else(|| "STANDARD".into()),
        ),
        restore: Some(restore_state(out.restore())),
        archive_status: out.archive_status().map(|a| a.as_str().to_string()),
    })
}

/// List and head `sample` objects under the prefix (as the role: each call is
/// a probe; as A: plain reads), and with `census` every object. `payer`: send
/// `x-amz-request-payer: requester`, as the copy does.
#[allow(clippy::too_many_arguments)]
pub async fn sample(
    who: &Account,
    as_probe: bool,
    payer: bool,
    bucket: &str,
    prefix: &str,
    region: Option<&str>,
    n: usize,
    census: bool,
    concurrency: usize,
) -> Sample {
    let mut probes = Vec::new();
    let limit = if census { None } else { Some(n.max(1)) };
    let listed = match list(
        who,
        as_probe,
        payer,
        bucket,
        prefix,
        region,
        limit,
        &mut probes,
    )
    .await
    {
        Ok(l) => l,
        Err(f) => {
            return Sample {
                objects: Field::Unreadable(f.marker("s3:ListBucket")),
                probes,
                census: None,
            };
        }
    };
    let s3 = who.s3(region);
    let sampled: Vec<&Listed> = listed.iter().take(n).collect();
    let to_head: Vec<&Listed> = if census {
        listed.iter().collect()
    } else {
        sampled.clone()
    };
    let heads: Vec<(usize, Result<Object, Failure>)> =
        futures::stream::iter(to_head.iter().enumerate())
            .map(|(i, l)| {
                let s3 = &s3;
                async move { (i, head(s3, bucket, l, payer).await) }
            })
            .buffer_unordered(concurrency.clamp(1, 256))
            .collect()
            .await;
    let mut heads: Vec<_> = heads;
    heads.sort_by_key(|(i, _)| *i);
    let mut objects = BTreeMap::new();
    let mut raw = census.then(RawCensus::default);
    for (i, res) in &heads {
        let l = to_head[*i];
        if *i < sampled.len() {
            if as_probe {
                probes.push(probe(
                    who,
                    "s3:GetObject",
                    format!("arn:aws:s3:::{bucket}/{}", l.key),
                    "HeadObject (no KMS)".into(),
                    match res {
                        Ok(_) => Outcome::Ok,
                        Err(f) => f.outcome(),
                    },
                ));
            }
            objects.insert(
                l.key.clone(),
                match res {
                    Ok(o) => Field::Value(o.clone()),
                    Err(f) => Field::Unreadable(f.marker("s3:GetObject")),
                },
            );
        }
        if let Some(rc) = raw.as_mut() {
            add_to_census(rc, l, res);
        }
    }
    Sample {
        objects: Field::Value(objects),
        probes,
        census: raw,
    }
}

fn example(c: &mut Census, kind: &str, key: &str) {
    let v = c.examples.entry(kind.to_string()).or_default();
    if v.len() < 3 {
        v.push(key.to_string());
    }
}

fn add_to_census(rc: &mut RawCensus, l: &Listed, res: &Result<Object, Failure>) {
    let c = &mut rc.census;
    c.objects += 1;
    let (enc, class) = match res {
        Ok(o) => (
            o.encryption.as_ref().map(|e| match &e.kms_key {
                Some(k) => format!("{} {k}", e.algorithm),
                None => e.algorithm.clone(),
            }),
            o.storage_class.clone(),
        ),
        Err(f) => (
            Some(format!("unreadable ({})", f.code)),
            l.storage_class.clone(),
        ),
    };
    let enc = enc.unwrap_or_else(|| "none".into());
    *c.by_encryption.entry(enc.clone()).or_default() += 1;
    example(c, &enc, &l.key);
    let class = class.unwrap_or_else(|| "STANDARD".into());
    *c.by_storage_class.entry(class.clone()).or_default() += 1;
    example(c, &class, &l.key);
    if let Some(owner) = &l.owner {
        let e = rc.owners.entry(owner.clone()).or_default();
        e.0 += 1;
        if e.1.len() < 3 {
            e.1.push(l.key.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_header() {
        assert_eq!(restore_state(None), None);
        assert_eq!(
            restore_state(Some("ongoing-request=\"true\"")).as_deref(),
            Some("ongoing")
        );
        assert_eq!(
            restore_state(Some(
                "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\""
            ))
            .as_deref(),
            Some("completed")
        );
    }
}
