//! The census (`--census`): every object under the source prefix, listed
//! page by page and headed with bounded concurrency, folded into counts as
//! the answers arrive. The listing streams into the HeadObject workers
//! through a bounded channel, so memory stays flat whatever the size of the
//! bucket: no list of keys is ever held, only the counts, up to three
//! example keys per category, and the first `--sample` objects.

use std::collections::BTreeMap;

use futures::StreamExt;

use super::fail::Failure;
use super::progress::Progress;
use super::rate::TokenBucket;
use super::s3::{Listed, Listing, Page, Sample, sampled_objects};
use crate::snapshot::model::Probe;
use crate::snapshot::model::{Census, Field, Object};

/// How the census runs.
pub struct Options {
    /// HeadObject calls in flight at once (`--concurrency`).
    pub concurrency: usize,
    /// Keeps the calls under S3's request rate for the prefix.
    pub rate: TokenBucket,
    /// Draw a progress bar (when standard error is a terminal).
    pub progress: bool,
}

impl Options {
    pub fn new(concurrency: usize, progress: bool) -> Options {
        Options {
            concurrency: concurrency.clamp(1, 1024),
            rate: TokenBucket::s3_prefix(),
            progress,
        }
    }
}

/// A census before owners are known: counts by canonical owner id.
#[derive(Default)]
pub struct RawCensus {
    pub census: Census,
    pub owners: BTreeMap<String, (u64, Vec<String>)>,
}

/// Up to this many example keys are kept per category.
const EXAMPLES: usize = 3;

/// Keep the first keys of a category in listing order (the smallest), so
/// the examples are the same whatever order the answers come in.
fn keep_first(v: &mut Vec<String>, key: &str) {
    if v.len() == EXAMPLES && v.last().is_some_and(|last| last.as_str() <= key) {
        return;
    }
    let at = v.partition_point(|k| k.as_str() < key);
    if v.get(at).is_some_and(|k| k == key) {
        return;
    }
    v.insert(at, key.to_string());
    v.truncate(EXAMPLES);
}

fn example(c: &mut Census, kind: &str, key: &str) {
    keep_first(c.examples.entry(kind.to_string()).or_default(), key);
}

/// Count one object: by encryption (`aws:kms ARN`, `AES256`, `SSE-C`,
/// `none`, or `unreadable (CODE)` when HeadObject failed), by storage class,
/// and by owner.
pub fn add(rc: &mut RawCensus, l: &Listed, res: &Result<Object, Failure>) {
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
        keep_first(&mut e.1, &l.key);
    }
}

/// Extra rounds a census request gets when S3 still throttles it after the
/// SDK's own retries: the census slows down and tries again.
const THROTTLED_ROUNDS: usize = 6;

/// One census request under the token bucket, adaptively: every throttling
/// answer (after the SDK's retries) halves the census's rate and the request
/// goes again, every success wins a step of the rate back. `failure` reads
/// the call's failure out of its answer (a page's answer carries probes too).
async fn paced<R, F, Fut>(
    opts: &Options,
    mut call: F,
    failure: impl Fn(&R) -> Option<&Failure>,
) -> R
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = R>,
{
    let mut round = 0;
    loop {
        opts.rate.acquire().await;
        let answer = call().await;
        match failure(&answer) {
            None => {
                opts.rate.ease();
                return answer;
            }
            Some(f) if f.is_throttling() => {
                opts.rate.slow_down();
                round += 1;
                if round > THROTTLED_ROUNDS {
                    return answer;
                }
            }
            Some(_) => return answer,
        }
    }
}

/// One listing page of 1,000 keys, paced; a retried page keeps its last
/// attempt's probes.
async fn paced_page(
    listing: &Listing<'_>,
    opts: &Options,
    token: Option<&str>,
) -> (Result<Page, Failure>, Vec<Probe>) {
    paced(
        opts,
        || async {
            let mut attempt_probes = Vec::new();
            let res = listing.page(1000, token, &mut attempt_probes).await;
            (res, attempt_probes)
        },
        |(res, _)| res.as_ref().err(),
    )
    .await
}

/// List and head every object; the first `n` listed are also the sample
/// (their HeadObject calls are probes when made as the role).
pub async fn run(listing: &Listing<'_>, n: usize, opts: &Options) -> Sample {
    let (first, mut probes) = paced_page(listing, opts, None).await;
    let first = match first {
        Ok(p) => p,
        Err(f) => return Sample::unlisted(&f, probes),
    };
    let bar = Progress::new(opts.progress);
    let progress = &bar;
    // a page and a half in the channel: the lister stays ahead of the workers
    let (tx, rx) = tokio::sync::mpsc::channel::<(usize, Listed)>(1500);

    // owns the sender: when the listing ends, the workers see the end
    let lister = async move {
        let mut index = 0usize;
        let mut page = first;
        let mut pages = 1u64;
        loop {
            progress.listed(page.items.len() as u64);
            for l in page.items {
                if tx.send((index, l)).await.is_err() {
                    return Ok(());
                }
                index += 1;
            }
            let Some(token) = page.next else {
                progress.listing_done();
                return Ok(());
            };
            let (next, later_probes) = paced_page(listing, opts, Some(&token)).await;
            match next {
                Ok(p) => page = p,
                Err(f) => return Err((f, pages, later_probes)),
            }
            pages += 1;
        }
    };
    let listed = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let workers = async {
        let mut raw = RawCensus::default();
        let mut sampled: Vec<(usize, Listed, Result<Object, Failure>)> = Vec::new();
        let mut heads = std::pin::pin!(
            listed
                .map(|(i, l)| async move {
                    let res = paced(opts, || listing.head(&l), |r| r.as_ref().err()).await;
                    (i, l, res)
                })
                .buffer_unordered(opts.concurrency)
        );
        while let Some((i, l, res)) = heads.next().await {
            add(&mut raw, &l, &res);
            progress.headed();
            if i < n {
                sampled.push((i, l, res));
            }
        }
        (raw, sampled)
    };
    let (listed, (raw, mut sampled)) = tokio::join!(lister, workers);
    bar.finish();
    sampled.sort_by_key(|(i, _, _)| *i);
    let heads = sampled.into_iter().map(|(_, l, r)| (l, r)).collect();
    let objects = sampled_objects(listing, heads, &mut probes);
    let mut notes = Vec::new();
    let (throttled, lowest) = opts.rate.throttling();
    if throttled > 0 {
        notes.push(format!(
            "S3 throttled the census of s3://{}/{} {throttled} time(s) (SlowDown after the SDK's retries): it slowed down to {lowest:.0} requests/s and tried again",
            listing.bucket, listing.prefix
        ));
    }
    let census = match listed {
        Ok(()) => Some(raw),
        Err((f, pages, later_probes)) => {
            probes.extend(later_probes);
            notes.push(format!(
                "the census of s3://{}/{} stopped after {pages} pages ({} objects): ListObjectsV2 failed: {}{}; no census is recorded",
                listing.bucket,
                listing.prefix,
                raw.census.objects,
                f.code,
                if f.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.message)
                }
            ));
            None
        }
    };
    Sample {
        objects: Field::Value(objects),
        probes,
        census,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::model::Encryption;

    fn listed(key: &str, owner: &str) -> Listed {
        Listed {
            key: key.into(),
            size: Some(1),
            owner: Some(owner.into()),
            storage_class: Some("STANDARD".into()),
        }
    }

    fn object(alg: &str, key: Option<&str>, class: &str) -> Result<Object, Failure> {
        Ok(Object {
            encryption: Some(Encryption {
                algorithm: alg.into(),
                kms_key: key.map(str::to_string),
                bucket_key: None,
            }),
            storage_class: Some(class.into()),
            ..Object::default()
        })
    }

    #[test]
    fn examples_are_the_first_keys_whatever_the_order() {
        let mut v = Vec::new();
        for k in ["d", "b", "e", "a", "c", "a"] {
            keep_first(&mut v, k);
        }
        assert_eq!(v, vec!["a", "b", "c"]);
    }

    #[test]
    fn counts_by_encryption_class_and_owner_with_three_examples_each() {
        let mut rc = RawCensus::default();
        let k = "arn:aws:kms:us-west-2:111111111111:key/k1";
        for i in 0..5 {
            add(
                &mut rc,
                &listed(&format!("kms/{i}"), "A"),
                &object("aws:kms", Some(k), "STANDARD"),
            );
        }
        add(
            &mut rc,
            &listed("cold/0", "B"),
            &object("AES256", None, "GLACIER"),
        );
        add(
            &mut rc,
            &listed("ssec/0", "A"),
            &object("SSE-C", None, "STANDARD"),
        );
        let denied = Err(Failure {
            code: "AccessDenied".into(),
            message: String::new(),
            status: Some(403),
            bucket_region: None,
            kind: super::super::fail::Kind::Service,
        });
        add(&mut rc, &listed("denied/0", "A"), &denied);
        let c = &rc.census;
        assert_eq!(c.objects, 8);
        assert_eq!(c.by_encryption[&format!("aws:kms {k}")], 5);
        assert_eq!(c.by_encryption["AES256"], 1);
        assert_eq!(c.by_encryption["SSE-C"], 1);
        assert_eq!(c.by_encryption["unreadable (AccessDenied)"], 1);
        assert_eq!(c.by_storage_class["STANDARD"], 7);
        assert_eq!(c.by_storage_class["GLACIER"], 1);
        assert_eq!(
            c.examples[&format!("aws:kms {k}")],
            vec!["kms/0", "kms/1", "kms/2"]
        );
        assert_eq!(c.examples["GLACIER"], vec!["cold/0"]);
        assert_eq!(rc.owners["A"].0, 7);
        assert_eq!(rc.owners["A"].1.len(), 3);
        assert_eq!(rc.owners["B"], (1, vec!["cold/0".to_string()]));
    }
}
