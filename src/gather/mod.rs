//! Live mode's AWS I/O, the only async code: read both accounts, probe as the
//! copying role, and build the snapshot the checks judge. Every failed read
//! becomes an `unreadable` marker; only unusable credentials, an unreachable
//! endpoint, a missing region or the timeout stop the run (exit code 4).

pub mod aws;
mod census;
mod docs;
mod fail;
mod iam;
mod kms;
pub mod operations;
mod probes;
mod progress;
mod rate;
mod s3;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use crate::cli::AwsArgs;
use crate::live::GatherError;
use crate::snapshot::load::is_key_arn;
use crate::snapshot::model::{
    Account as SnapAccount, Bucket, CopySpec, FORMAT, Field, Key, Object, Probe, S3Location,
    Snapshot,
};

use aws::{Account, RoleSession, Side};

/// Read AWS into a snapshot, under `--timeout`.
pub fn run(copy: CopySpec, args: &AwsArgs) -> Result<Snapshot, GatherError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| GatherError::Aws(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        // a census runs as long as the bucket needs: no budget then
        let Some(secs) = args.time_limit() else {
            let budget = aws::Budget::new(Duration::from_secs(7 * 24 * 3600));
            return gather(copy, args, budget).await;
        };
        let budget = aws::Budget::new(Duration::from_secs(secs));
        match tokio::time::timeout(Duration::from_secs(secs), gather(copy, args, budget)).await {
            Ok(r) => r,
            Err(_) => Err(GatherError::Timeout { seconds: secs }),
        }
    })
}

/// The key ids the copy uses, as named (ARN, key id or alias).
fn dest_key_id(copy: &CopySpec, dst: &Field<Bucket>) -> Option<String> {
    copy.destination_key
        .clone()
        .or_else(|| {
            copy.header("x-amz-server-side-encryption-aws-kms-key-id")
                .map(str::to_string)
        })
        .or_else(|| {
            dst.value()
                .and_then(|b| b.encryption.value())
                .and_then(|e| e.as_ref())
                .filter(|e| e.is_kms())
                .and_then(|e| e.kms_key.clone())
        })
}

fn kms_keys_of(objects: &Field<BTreeMap<String, Field<Object>>>) -> Vec<String> {
    let mut out = Vec::new();
    if let Field::Value(objs) = objects {
        for o in objs.values().filter_map(Field::value) {
            if let Some(k) = o
                .encryption
                .as_ref()
                .filter(|e| e.is_kms())
                .and_then(|e| e.kms_key.clone())
                && !out.contains(&k)
            {
                out.push(k);
            }
        }
    }
    out
}

/// One key read, shared by whoever needs that key (a key may be both the
/// source's and the destination's).
type KeyRead = Result<(String, Field<Key>, Vec<String>), String>;
type SharedKeyRead<'a> = Shared<BoxFuture<'a, KeyRead>>;

/// Each key is read once, as soon as the first chain asks for it.
#[derive(Default)]
struct KeyReads<'a> {
    started: Mutex<Vec<(String, SharedKeyRead<'a>)>>,
}

impl<'a> KeyReads<'a> {
    fn read(&self, who: &'a Account, id: &str, region: &str) -> SharedKeyRead<'a> {
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, f)) = started.iter().find(|(k, _)| k == id) {
            return f.clone();
        }
        let (key, region) = (id.to_string(), region.to_string());
        let f = async move { kms::read_key(who, &key, &region).await }
            .boxed()
            .shared();
        started.push((id.to_string(), f.clone()));
        f
    }
}

/// What the destination chain found: B's bucket, its key, and the role's
/// probes on them.
struct Destination {
    bucket: Field<Bucket>,
    canonical: Option<String>,
    notes: Vec<String>,
    region: String,
    /// The key id the copy writes with, and its read (None: not read).
    key: Option<(String, Option<KeyRead>)>,
    generate: Option<Probe>,
    writes: Vec<Probe>,
}

/// What the source chain found: A's bucket, the objects (as the role or A),
/// the source keys, the role's probes on them, and the simulator's answers.
struct Source {
    bucket: Option<Field<Bucket>>,
    canonical: Option<String>,
    notes: Vec<String>,
    region_probe: Option<String>,
    sample: Option<s3::Sample>,
    object_probes: Vec<Probe>,
    a_id: Option<String>,
    /// (reader's account, key id, read)
    keys: Vec<(String, String, KeyRead)>,
    key_probes: Vec<Probe>,
    simulated: Result<Vec<iam::Simulated>, String>,
}

/// Every read and probe starts as soon as what it needs is known: the
/// identities and the role's session first, then B's and A's documents, the
/// objects and the keys as concurrent chains, so a run takes a handful of
/// round trips, not the sum of its calls.
///
/// ```text
/// GetCallerIdentity (B, A) ‖ AssumeRole
///  ├─ HeadBucket ‖ ListObjectsV2 ─ HeadObject ─ source keys ‖ decrypt probes ‖ simulator
///  ├─ HeadBucket (destination, as the role)
///  ├─ GetRole ‖ List*RolePolicies ─ Get*Policy ─ GetPolicyVersion
///  ├─ HeadBucket ─ bucket reads (A and B) ─ destination key ‖ GenerateDataKey
///  └─ DescribeOrganization (B, A)
/// ```
async fn gather(
    copy: CopySpec,
    args: &AwsArgs,
    budget: aws::Budget,
) -> Result<Snapshot, GatherError> {
    let region = args.region.as_deref();
    let (b_config, a_config) =
        tokio::join!(aws::load(Side::B, args.profile.as_deref(), region), async {
            match &args.source_profile {
                Some(p) => Some(aws::load(Side::A, Some(p), region).await),
                None => None,
            }
        });
    let b_config = b_config?;
    let a_config = a_config.transpose()?;
    // a JSON object in the snapshot is sent compact, as AWS would store it
    let session_policy = copy.session_policy.as_ref().map(|d| match d.raw {
        crate::snapshot::model::RawPolicy::Text(_) => d.text().to_string(),
        crate::snapshot::model::RawPolicy::Json => {
            serde_json::from_str::<serde_json::Value>(d.text())
                .map_or_else(|_| d.text().to_string(), |v| v.to_string())
        }
    });
    // B's identity, A's identity and the role's session at once; the first
    // failure to connect ends the run without waiting for the others
    let assumed = async {
        Ok::<_, GatherError>(if args.no_probes {
            None
        } else {
            Some(
                aws::assume_role(
                    &b_config,
                    budget,
                    &copy.principal,
                    session_policy.as_deref(),
                )
                .await,
            )
        })
    };
    let (b, a, assumed) = tokio::try_join!(
        aws::connect(Side::B, b_config.clone(), budget),
        async {
            match a_config {
                Some(c) => aws::connect(Side::A, c, budget).await.map(Some),
                None => Ok(None),
            }
        },
        assumed
    )?;

    let role_account = crate::snapshot::load::role_account(&copy.principal).unwrap_or("");
    if b.account != role_account {
        return Err(GatherError::WrongAccount {
            identity: b.arn.clone(),
            account: b.account.clone(),
            role: copy.principal.clone(),
        });
    }
    let src = &copy.source;
    let dst = &copy.destination;
    // the probes send what the copy sends
    let payer = copy
        .header("x-amz-request-payer")
        .is_some_and(|v| v.eq_ignore_ascii_case("requester"));

    // The role's session, which every probe uses. A fault on AssumeRole is
    // recorded as a probe that could not complete (XA014 unknown): the run
    // asked for probes and none could be made.
    let (role, role_note, role_fault) = match assumed {
        None => (
            None,
            Some("no probes were made (--no-probes)".to_string()),
            None,
        ),
        Some(assumed) => match aws::role_session(&b, &copy.principal, assumed, args.probe_writes) {
            RoleSession::Ready(r) => (Some(*r), None, None),
            RoleSession::Unavailable(why, fault) => (
                None,
                Some(why),
                fault.map(|f| Probe {
                    as_principal: Some(b.arn.clone()),
                    call: "sts:AssumeRole".into(),
                    target: copy.principal.clone(),
                    detail: Some("AssumeRole (session xacct-doctor) for the probes".into()),
                    outcome: f.outcome(),
                }),
            ),
        },
    };
    let role = role.as_ref();
    let keys = KeyReads::default();

    let organizations = async {
        tokio::join!(iam::read_organization(&b), async {
            match &a {
                Some(a) => Some(iam::read_organization(a).await),
                None => None,
            }
        })
    };

    let destination = async {
        let (bucket, canonical, mut notes) = s3::read_bucket(&b, &dst.bucket, false).await;
        let dst_key = dest_key_id(&copy, &bucket);
        let dst_region = bucket
            .value()
            .and_then(|bk| bk.region.clone())
            .unwrap_or_else(|| b.region().to_string());
        let read = match &dst_key {
            Some(k) => match kms::arn_parts(k) {
                Some((_, acct)) if acct != b.account => {
                    notes.push(format!(
                        "the destination key {k} is in account {acct}, not B: it was not read"
                    ));
                    None
                }
                _ => Some(keys.read(&b, k, &dst_region)),
            },
            None => None,
        };
        let bucket_key = bucket
            .value()
            .and_then(|bk| bk.encryption.value())
            .and_then(|e| e.as_ref())
            .and_then(|e| e.bucket_key)
            .unwrap_or(false);
        let role_probes = async {
            let Some(r) = role else {
                return (None, Vec::new());
            };
            // GenerateDataKey DryRun on the key by ARN: named by ARN, it need
            // not wait for DescribeKey
            let generate = async {
                let k = dst_key.as_ref()?;
                let arn = match &read {
                    Some(read) if !is_key_arn(k) => match read.clone().await {
                        Ok((arn, _, _)) => arn,
                        Err(_) => k.clone(),
                    },
                    _ => k.clone(),
                };
                let ctx = if bucket_key {
                    dst.bucket_arn()
                } else {
                    format!(
                        "arn:aws:s3:::{}/{}xacct-example-object",
                        dst.bucket, dst.prefix
                    )
                };
                Some(probes::generate_dry_run(r, &arn, &ctx).await)
            };
            let writes = async {
                if args.probe_writes {
                    probes::write_probe(r, &copy, Some(&dst_region)).await
                } else {
                    Vec::new()
                }
            };
            tokio::join!(generate, writes)
        };
        let key_read = async {
            match &read {
                Some(f) => Some(f.clone().await),
                None => None,
            }
        };
        let (key_read, (generate, writes)) = tokio::join!(key_read, role_probes);
        Destination {
            bucket,
            canonical,
            notes,
            region: dst_region,
            key: dst_key.map(|k| (k, key_read)),
            generate,
            writes,
        }
    };

    let dst_head = async {
        match role {
            Some(r) => Some((r.arn.clone(), s3::head_bucket(r, &dst.bucket).await)),
            None => None,
        }
    };

    let source = async {
        let a_bucket = async {
            match &a {
                Some(a) => Some(s3::read_bucket(a, &src.bucket, true).await),
                None => None,
            }
        };
        let census_opts = args
            .census
            .then(|| census::Options::new(args.concurrency, true));
        // The objects: as the role (probes), else as A (reads).
        let objects = async {
            let (who, as_probe) = match (role, &a) {
                (Some(r), _) => (r, true),
                (None, Some(a)) => (a, false),
                (None, None) => return (None, None, Vec::new()),
            };
            let listing = |who, as_probe, region| listing(who, as_probe, payer, region, src);
            // HeadBucket and the listing at once, in the role's region; the
            // listing is redone in the bucket's region when HeadBucket names
            // another
            let first = listing(who, as_probe, None);
            let ((src_region, head), sample) = tokio::join!(
                s3::head_bucket(who, &src.bucket),
                s3::sample(&first, args.sample, args.concurrency, census_opts.as_ref())
            );
            let mut probes = Vec::new();
            if as_probe {
                probes.push(Probe {
                    as_principal: Some(who.arn.clone()),
                    call: "s3:ListBucket".into(),
                    target: src.bucket_arn(),
                    detail: Some(format!(
                        "HeadBucket (region {})",
                        src_region.as_deref().unwrap_or("unknown")
                    )),
                    outcome: match &head {
                        Ok(()) => crate::snapshot::model::Outcome::Ok,
                        Err(f) => f.outcome(),
                    },
                });
            }
            if matches!(&head, Err(f) if f.is("NoSuchBucket")) {
                return (src_region, None, probes);
            }
            let mut sample = match &src_region {
                Some(r) if r != who.region() => {
                    let there = listing(who, as_probe, Some(r));
                    s3::sample(&there, args.sample, args.concurrency, census_opts.as_ref()).await
                }
                _ => sample,
            };
            probes.append(&mut sample.probes);
            // the role may not list: the probe says so; A's credentials still
            // tell what the objects are
            if as_probe
                && sample.objects.unreadable().is_some()
                && let Some(a) = &a
            {
                let by_a = listing(a, false, src_region.as_deref());
                let by_a =
                    s3::sample(&by_a, args.sample, args.concurrency, census_opts.as_ref()).await;
                return (src_region, Some(by_a), probes);
            }
            (src_region, Some(sample), probes)
        };
        let (a_bucket, (region_probe, sample, object_probes)) = tokio::join!(a_bucket, objects);
        let (bucket, canonical, mut notes) = match a_bucket {
            Some((bucket, canonical, n)) => (Some(bucket), canonical, n),
            None => (None, None, Vec::new()),
        };

        let mut src_keys: Vec<String> = Vec::new();
        if let Some(s) = &sample {
            src_keys.extend(kms_keys_of(&s.objects));
            if let Some(c) = &s.census {
                for enc in c.census.by_encryption.keys() {
                    if let Some((alg, key)) = enc.split_once(' ')
                        && alg.starts_with("aws:kms")
                        && !src_keys.iter().any(|k| k == key)
                    {
                        src_keys.push(key.to_string());
                    }
                }
            }
        }
        if let Some(k) = &copy.source_key
            && !src_keys.contains(k)
        {
            src_keys.push(k.clone());
        }
        if let Some(Field::Value(bk)) = &bucket
            && let Some(Some(e)) = bk.encryption.value()
            && e.is_kms()
            && let Some(k) = &e.kms_key
            && !src_keys.contains(k)
        {
            src_keys.push(k.clone());
        }
        let a_id: Option<String> = a.as_ref().map(|a| a.account.clone()).or_else(|| {
            src_keys
                .iter()
                .find_map(|k| kms::arn_parts(k).map(|(_, acct)| acct.to_string()))
        });
        let src_region = bucket
            .as_ref()
            .and_then(|f| f.value())
            .and_then(|bk| bk.region.clone())
            .or(region_probe.clone())
            .unwrap_or_else(|| b.region().to_string());

        // Which account reads which source key.
        let mut reads = Vec::new();
        for k in &src_keys {
            let acct = kms::arn_parts(k).map(|(_, acct)| acct.to_string());
            let reader = match (&a, acct.as_deref()) {
                (Some(a), Some(acct)) if acct == a.account => Some(a),
                (_, Some(acct)) if acct == b.account => Some(&b),
                (Some(a), None) => Some(a),
                _ => None,
            };
            match reader {
                Some(r) => reads.push((r.account.clone(), k.clone(), keys.read(r, k, &src_region))),
                None => notes.push(format!(
                    "the source key {k} was not read: no credentials for account {} (give --source-profile)",
                    acct.as_deref().unwrap_or("A")
                )),
            }
        }
        let key_reads = futures::future::join_all(
            reads
                .into_iter()
                .map(|(acct, id, f)| async move { (acct, id, f.await) }),
        );

        let objects_map = match sample.as_ref().map(|s| &s.objects) {
            Some(Field::Value(objs)) => Some(objs),
            _ => None,
        };
        // The probes on keys and objects, as the role.
        let key_probes = async {
            let Some(r) = role else {
                return Vec::new();
            };
            // the decrypt test: one object per KMS key in the sample
            let mut tested: BTreeSet<String> = BTreeSet::new();
            let mut gets = Vec::new();
            for (key, o) in objects_map.into_iter().flatten() {
                let Some(o) = o.value() else { continue };
                if o.size == Some(0) {
                    continue;
                }
                let id = o
                    .encryption
                    .as_ref()
                    .map(|e| format!("{}{:?}", e.algorithm, e.kms_key))
                    .unwrap_or_default();
                if tested.insert(id) {
                    gets.push(key.clone());
                }
            }
            // the encryption context S3 would send for an object under each
            // key: the object ARN, or the bucket ARN with a Bucket Key
            let context_for = |key: &str| -> String {
                objects_map
                    .into_iter()
                    .flatten()
                    .find_map(|(name, o)| {
                        let e = o.value()?.encryption.as_ref()?;
                        (e.kms_key.as_deref() == Some(key)).then(|| {
                            if e.bucket_key == Some(true) {
                                src.bucket_arn()
                            } else {
                                format!("{}/{name}", src.bucket_arn())
                            }
                        })
                    })
                    .unwrap_or_else(|| {
                        format!("{}/{}xacct-example-object", src.bucket_arn(), src.prefix)
                    })
            };
            let src_region = src_region.as_str();
            let decrypt_tests = futures::future::join_all(
                gets.iter()
                    .map(|key| probes::decrypt_test(r, &src.bucket, Some(src_region), key, payer)),
            );
            let dry_runs = futures::future::join_all(
                src_keys
                    .iter()
                    .filter(|k| kms::arn_parts(k).is_some())
                    .map(|k| {
                        let ctx = context_for(k);
                        async move { probes::decrypt_dry_run(r, k, &ctx).await }
                    }),
            );
            let (mut out, dry) = tokio::join!(decrypt_tests, dry_runs);
            out.extend(dry);
            out
        };
        // The IAM policy simulator, on what the checks will judge.
        let requests = simulator_requests(
            &copy,
            a_id.as_deref(),
            bucket.as_ref(),
            sample.as_ref().map(|s| &s.objects),
        );
        let simulate = iam::simulate(&b, &copy.principal, &requests);
        let (keys_read, key_probes, simulated) = tokio::join!(key_reads, key_probes, simulate);
        Source {
            bucket,
            canonical,
            notes,
            region_probe,
            sample,
            object_probes,
            a_id,
            keys: keys_read,
            key_probes,
            simulated,
        }
    };

    let ((role_name, role_field), (org_b, org_a), destination, dst_head, source) = tokio::join!(
        iam::read_role(&b, &copy.principal),
        organizations,
        destination,
        dst_head,
        source
    );

    let mut notes: Vec<String> = Vec::new();
    notes.extend(role_note);
    notes.extend(destination.notes);
    let Source {
        bucket: mut src_bucket,
        canonical: a_canonical,
        notes: src_notes,
        region_probe: src_region_probe,
        sample,
        object_probes,
        a_id,
        keys: src_key_reads,
        key_probes: mut role_probe_list,
        simulated,
    } = source;
    notes.extend(src_notes);
    let mut probes: Vec<Probe> = object_probes;
    probes.extend(role_fault);

    let mut keys_b: BTreeMap<String, Field<Key>> = BTreeMap::new();
    let mut keys_a: BTreeMap<String, Field<Key>> = BTreeMap::new();
    let mut seen_ids: BTreeSet<String> = BTreeSet::new();
    let dst_read = destination
        .key
        .and_then(|(id, read)| read.map(|r| (b.account.clone(), id, r)));
    for (acct, id, res) in dst_read.into_iter().chain(src_key_reads) {
        if !seen_ids.insert(id.clone()) {
            continue;
        }
        match res {
            Ok((arn, field, n)) => {
                notes.extend(n);
                if acct == b.account {
                    keys_b.insert(arn, field);
                } else {
                    keys_a.insert(arn, field);
                }
            }
            Err(note) => notes.push(note),
        }
    }

    // The destination: HeadBucket, GenerateDataKey DryRun, and the write probe.
    if let Some(r) = role {
        if let Some((arn, head)) = &dst_head {
            match &head.1 {
                Ok(()) => probes.push(Probe {
                    as_principal: Some(arn.clone()),
                    call: "s3:ListBucket".into(),
                    target: dst.bucket_arn(),
                    detail: Some(format!("HeadBucket (region {})", destination.region)),
                    outcome: crate::snapshot::model::Outcome::Ok,
                }),
                // the copy does not need s3:ListBucket on the destination: a 403
                // here is no evidence against it
                Err(f) if f.status == Some(403) => notes.push(format!(
                    "HeadBucket on {} as the role was refused ({}); the copy does not need s3:ListBucket on the destination, so this is not recorded as a failed probe",
                    dst.bucket, f.code
                )),
                Err(f) => probes.push(Probe {
                    as_principal: Some(r.arn.clone()),
                    call: "s3:ListBucket".into(),
                    target: dst.bucket_arn(),
                    detail: Some("HeadBucket".into()),
                    outcome: f.outcome(),
                }),
            }
        }
        probes.append(&mut role_probe_list);
        probes.extend(destination.generate);
        probes.extend(destination.writes);
    }

    // Whose objects are they: canonical ids mapped to accounts.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    if let Some(c) = &destination.canonical {
        owners.insert(c.clone(), b.account.clone());
    }
    if let (Some(c), Some(id)) = (&a_canonical, &a_id) {
        // A wins when both accounts show the same id (a local AWS does that)
        owners.insert(c.clone(), id.clone());
    }
    let (mut objects, census) = match sample {
        Some(s) => {
            notes.extend(s.notes);
            let census = s.census.map(|rc| {
                let mut c = rc.census;
                let a_canon = a_canonical.as_deref();
                for (canon, (n, ex)) in &rc.owners {
                    let foreign = match (a_canon, owners.get(canon)) {
                        (Some(ac), _) => canon != ac,
                        (None, Some(acct)) => Some(acct) != a_id.as_ref(),
                        (None, None) => false,
                    };
                    if foreign {
                        c.foreign_owned += n;
                        let v = c.examples.entry("foreign_owned".into()).or_default();
                        v.extend(ex.iter().take(3 - v.len().min(3)).cloned());
                    }
                }
                if a_canon.is_none() && !rc.owners.is_empty() {
                    notes.push(
                        "the census could not tell which objects account A owns (its canonical id was not read): foreign_owned counts only objects owned by B"
                            .to_string(),
                    );
                }
                c
            });
            (s.objects, census)
        }
        None => (Field::NotRead, None),
    };
    if let Field::Value(objs) = &mut objects {
        for o in objs.values_mut() {
            if let Field::Value(o) = o {
                o.owner = o.owner.as_ref().and_then(|c| owners.get(c).cloned());
            }
        }
    }

    // Assemble the accounts.
    let mut accounts: BTreeMap<String, SnapAccount> = BTreeMap::new();
    let mut acct_b = SnapAccount {
        id: b.account.clone(),
        organization: org_b,
        ..SnapAccount::default()
    };
    acct_b
        .buckets
        .insert(dst.bucket.clone(), destination.bucket);
    acct_b.roles.insert(role_name, role_field);
    acct_b.keys = keys_b;
    accounts.insert(b.account.clone(), acct_b);

    let has_objects = !objects.is_not_read();
    match &a_id {
        Some(id) => {
            let entry = accounts.entry(id.clone()).or_insert_with(|| SnapAccount {
                id: id.clone(),
                ..SnapAccount::default()
            });
            if let Some(org) = org_a
                && entry.id != b.account
            {
                entry.organization = org;
            }
            entry.keys.extend(keys_a);
            let bucket = match src_bucket.take() {
                Some(f) => Some(f),
                None if has_objects || src_region_probe.is_some() => Some(Field::Value(
                    bare_bucket(id, &src.bucket, src_region_probe.clone()),
                )),
                None => None,
            };
            if let Some(mut bf) = bucket {
                if let Field::Value(bk) = &mut bf {
                    bk.objects = objects;
                    bk.census = census;
                } else if has_objects {
                    notes.push(format!(
                        "the objects of {} were sampled but the bucket itself is unreadable: they are not recorded",
                        src.bucket
                    ));
                }
                entry.buckets.insert(src.bucket.clone(), bf);
            }
        }
        None if has_objects => notes.push(format!(
            "the account that owns {} is not known (no --source-profile, no --source-key, and no sampled object names a KMS key ARN): its objects are not recorded",
            src.bucket
        )),
        None => {}
    }

    let mut snap = Snapshot {
        format: FORMAT.into(),
        description: Some(format!(
            "gathered live by xacct {} as {}{}",
            env!("CARGO_PKG_VERSION"),
            b.arn,
            a.as_ref()
                .map(|a| format!(" (B) and {} (A)", a.arn))
                .unwrap_or_else(|| " (B only)".into())
        )),
        copy,
        accounts,
        probes,
        expect: None,
        notes: Vec::new(),
    };

    // Compare the simulator's answers with the local engine.
    notes.extend(cross_check(simulated, &snap));
    snap.notes = notes;
    Ok(snap)
}

/// How `who` lists the source (with the copy's Requester Pays header when
/// probing as the role).
fn listing<'a>(
    who: &'a Account,
    as_probe: bool,
    payer: bool,
    region: Option<&str>,
    src: &'a S3Location,
) -> s3::Listing<'a> {
    s3::Listing {
        s3: who.s3(region),
        who,
        as_probe,
        payer: as_probe && payer,
        bucket: &src.bucket,
        prefix: &src.prefix,
    }
}

/// A source bucket known only through the objects read in it.
fn bare_bucket(account: &str, name: &str, region: Option<String>) -> Bucket {
    Bucket {
        region,
        ..Bucket::not_read(name, docs::bucket_ptr(account, name))
    }
}

/// What to ask the IAM policy simulator, from what the checks will judge:
/// the source objects as the snapshot will record them (without the keys,
/// which the requests do not depend on), so the simulator runs beside the
/// key reads instead of after them.
fn simulator_requests(
    copy: &CopySpec,
    a_id: Option<&str>,
    src_bucket: Option<&Field<Bucket>>,
    objects: Option<&Field<BTreeMap<String, Field<Object>>>>,
) -> Vec<(&'static str, String)> {
    let mut s = Snapshot {
        format: FORMAT.into(),
        description: None,
        copy: copy.clone(),
        accounts: BTreeMap::new(),
        probes: Vec::new(),
        expect: None,
        notes: Vec::new(),
    };
    let src = &copy.source;
    if let Some(id) = a_id {
        let objects = objects.cloned().unwrap_or(Field::NotRead);
        let bucket = match src_bucket {
            Some(Field::Value(bk)) => {
                let mut bk = bk.clone();
                bk.objects = objects;
                Some(Field::Value(bk))
            }
            Some(other) => Some(other.clone()),
            None if !objects.is_not_read() => {
                let mut bk = bare_bucket(id, &src.bucket, None);
                bk.objects = objects;
                Some(Field::Value(bk))
            }
            None => None,
        };
        let mut acct = SnapAccount {
            id: id.to_string(),
            ..SnapAccount::default()
        };
        if let Some(bf) = bucket {
            acct.buckets.insert(src.bucket.clone(), bf);
        }
        s.accounts.insert(id.to_string(), acct);
    }
    let plan = crate::checks::plan::Plan::new(&s);
    let object = plan
        .objects
        .first()
        .map(|o| format!("{}/{}", src.bucket_arn(), o.key))
        .unwrap_or_else(|| format!("{}/{}xacct-example-object", src.bucket_arn(), src.prefix));
    let mut requests: Vec<(&'static str, String)> = vec![
        ("s3:ListBucket", src.bucket_arn()),
        ("s3:GetObject", object),
    ];
    for k in &plan.source_keys {
        requests.push(("kms:Decrypt", k.clone()));
    }
    requests
}

/// Compare what the IAM policy simulator says the role's identity policies
/// allow with the local engine (XA006, XA007); a disagreement is a note, the
/// local verdict stands.
fn cross_check(simulated: Result<Vec<iam::Simulated>, String>, snap: &Snapshot) -> Vec<String> {
    let results = match simulated {
        Ok(r) => r,
        Err(why) => {
            return vec![format!(
                "IAM policy simulator cross-check not available ({why})"
            )];
        }
    };
    let findings = crate::checks::run_all(snap);
    let status = |id: &str| {
        findings
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.status.as_str())
            .unwrap_or("unknown")
    };
    let mut out = Vec::new();
    for r in results {
        let check = if r.action.starts_with("kms:") {
            "XA007"
        } else {
            "XA006"
        };
        let local = status(check);
        let sim_allows = r.decision == "allowed";
        let disagree = match local {
            "pass" => !sim_allows,
            "fail" => sim_allows,
            _ => false,
        };
        if disagree {
            out.push(format!(
                "warning: the IAM policy simulator says {} for {} on {}, the local engine says {check} {local} (the simulator also applies the permissions boundary{}; the local verdict stands)",
                r.decision,
                r.action,
                r.resource,
                if check == "XA007" {
                    ", and ignores KMS grants"
                } else {
                    ""
                }
            ));
        }
    }
    out
}
