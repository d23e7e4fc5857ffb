//! S3: a bucket as its owner reads it (region, policy, default encryption,
//! ownership controls, public access block, Requester Pays, owner's canonical
//! id), and the objects as the role (or A) lists and heads them.

use std::collections::BTreeMap;

use futures::StreamExt;

use super::aws::Account;
use super::census::{self, RawCensus};
use super::docs;
use super::fail::Failure;
use crate::snapshot::model::{
    Bucket, Encryption, Field, Object, Outcome, Probe, PublicAccessBlock,
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
    /// Why the census is missing although it was asked for.
    pub notes: Vec<String>,
}

impl Sample {
    /// The listing failed: the objects are unreadable (as s3:ListBucket).
    pub fn unlisted(f: &Failure, probes: Vec<Probe>) -> Sample {
        Sample {
            objects: Field::Unreadable(f.marker("s3:ListBucket")),
            probes,
            census: None,
            notes: Vec::new(),
        }
    }
}

/// An object as ListObjectsV2 shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: String,
    pub size: Option<u64>,
    pub owner: Option<String>,
    pub storage_class: Option<String>,
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

/// Where and how to list: the objects under `prefix`, as the copy would
/// (`payer`: with `x-amz-request-payer: requester`).
pub struct Listing<'a> {
    pub s3: aws_sdk_s3::Client,
    pub who: &'a Account,
    /// Each page is a probe (as the role), or a plain read (as A).
    pub as_probe: bool,
    pub payer: bool,
    pub bucket: &'a str,
    pub prefix: &'a str,
}

/// One page of a listing and the continuation token of the next.
pub struct Page {
    pub items: Vec<Listed>,
    pub next: Option<String>,
}

impl Listing<'_> {
    /// One ListObjectsV2 page of up to `max_keys`; as the role, the first
    /// page and any page that fails are recorded as probes.
    pub async fn page(
        &self,
        max_keys: i32,
        token: Option<&str>,
        probes: &mut Vec<Probe>,
    ) -> Result<Page, Failure> {
        let mut req = self
            .s3
            .list_objects_v2()
            .bucket(self.bucket)
            .fetch_owner(true)
            .max_keys(max_keys);
        if self.payer {
            req = req.request_payer(aws_sdk_s3::types::RequestPayer::Requester);
        }
        if !self.prefix.is_empty() {
            req = req.prefix(self.prefix);
        }
        if let Some(t) = token {
            req = req.continuation_token(t);
        }
        let res = req.send().await.map_err(|e| Failure::from_sdk(&e));
        if self.as_probe && (token.is_none() || res.is_err()) {
            let detail = format!(
                "ListObjectsV2 MaxKeys={max_keys} FetchOwner=true{}{}",
                if self.prefix.is_empty() {
                    String::new()
                } else {
                    format!(" Prefix={}", self.prefix)
                },
                if token.is_some() { " (next page)" } else { "" }
            );
            let outcome = match &res {
                Ok(_) => Outcome::Ok,
                Err(f) => f.outcome(),
            };
            probes.push(probe(
                self.who,
                "s3:ListBucket",
                format!("arn:aws:s3:::{}", self.bucket),
                detail,
                outcome,
            ));
        }
        let res = res?;
        let items = res
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Listed {
                    key: o.key()?.to_string(),
                    size: o.size().and_then(|s| u64::try_from(s).ok()),
                    owner: o.owner().and_then(|w| w.id()).map(str::to_string),
                    storage_class: o.storage_class().map(|c| c.as_str().to_string()),
                })
            })
            .collect();
        let next = res
            .next_continuation_token()
            .filter(|_| res.is_truncated().unwrap_or(false))
            .map(str::to_string);
        Ok(Page { items, next })
    }

    /// Up to `limit` keys, page after page.
    async fn first(&self, limit: usize, probes: &mut Vec<Probe>) -> Result<Vec<Listed>, Failure> {
        let mut out: Vec<Listed> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let want = (limit - out.len()).clamp(1, 1000) as i32;
            let page = self.page(want, token.as_deref(), probes).await?;
            out.extend(page.items);
            token = page.next;
            if token.is_none() || out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// HeadObject on one listed object.
    pub async fn head(&self, l: &Listed) -> Result<Object, Failure> {
        head(&self.s3, self.bucket, l, self.payer).await
    }
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

/// The sampled objects as a snapshot records them, each HeadObject a probe
/// when made as the role.
pub fn sampled_objects(
    listing: &Listing<'_>,
    heads: Vec<(Listed, Result<Object, Failure>)>,
    probes: &mut Vec<Probe>,
) -> BTreeMap<String, Field<Object>> {
    let mut objects = BTreeMap::new();
    for (l, res) in heads {
        if listing.as_probe {
            probes.push(probe(
                listing.who,
                "s3:GetObject",
                format!("arn:aws:s3:::{}/{}", listing.bucket, l.key),
                "HeadObject (no KMS)".into(),
                match &res {
                    Ok(_) => Outcome::Ok,
                    Err(f) => f.outcome(),
                },
            ));
        }
        objects.insert(
            l.key,
            match res {
                Ok(o) => Field::Value(o),
                Err(f) => Field::Unreadable(f.marker("s3:GetObject")),
            },
        );
    }
    objects
}

/// List and head `n` objects under the prefix (as the role: each call is a
/// probe; as A: plain reads); with `census`, list and head every object and
/// count them, the first `n` being the sample.
pub async fn sample(
    listing: &Listing<'_>,
    n: usize,
    concurrency: usize,
    census: Option<&census::Options>,
) -> Sample {
    let mut probes = Vec::new();
    if let Some(opts) = census {
        return census::run(listing, n, opts).await;
    }
    let listed = match listing.first(n.max(1), &mut probes).await {
        Ok(l) => l,
        Err(f) => return Sample::unlisted(&f, probes),
    };
    let heads: Vec<(Listed, Result<Object, Failure>)> =
        futures::stream::iter(listed.into_iter().take(n))
            .map(|l| async move {
                let res = listing.head(&l).await;
                (l, res)
            })
            .buffered(concurrency.clamp(1, 1024))
            .collect()
            .await;
    let objects = sampled_objects(listing, heads, &mut probes);
    Sample {
        objects: Field::Value(objects),
        probes,
        census: None,
        notes: Vec::new(),
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
