//! Live mode's AWS I/O, the only async code: read both accounts, probe as the
//! copying role, and build the snapshot the checks judge. Every failed read
//! becomes an `unreadable` marker; only unusable credentials, an unreachable
//! endpoint, a missing region or the timeout stop the run (exit code 4).

pub mod aws;
mod docs;
mod fail;
mod iam;
mod kms;
mod probes;
mod s3;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::cli::AwsArgs;
use crate::live::GatherError;
use crate::snapshot::model::{
    Account as SnapAccount, Bucket, CopySpec, FORMAT, Field, Key, Object, Probe, Snapshot,
};

use aws::{Account, RoleSession, Side};

/// Read AWS into a snapshot, under `--timeout`.
pub fn run(copy: CopySpec, args: &AwsArgs) -> Result<Snapshot, GatherError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| GatherError::Aws(format!("cannot start the async runtime: {e}")))?;
    let secs = args.timeout.max(1);
    rt.block_on(async {
        match tokio::time::timeout(Duration::from_secs(secs), gather(copy, args)).await {
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

async fn gather(copy: CopySpec, args: &AwsArgs) -> Result<Snapshot, GatherError> {
    let mut notes: Vec<String> = Vec::new();
    let region = args.region.as_deref();
    let b_config = aws::load(Side::B, args.profile.as_deref(), region).await?;
    let a_config = match &args.source_profile {
        Some(p) => Some(aws::load(Side::A, Some(p), region).await?),
        None => None,
    };
    let (b, a) = tokio::join!(aws::connect(Side::B, b_config), async {
        match a_config {
            Some(c) => Some(aws::connect(Side::A, c).await),
            None => None,
        }
    });
    let b = b?;
    let a = a.transpose()?;

    let role_account = crate::snapshot::load::role_account(&copy.principal).unwrap_or("");
    if b.account != role_account {
        return Err(GatherError::WrongAccount {
            identity: b.arn.clone(),
            account: b.account.clone(),
            role: copy.principal.clone(),
        });
    }
    let role = if args.no_probes {
        notes.push("no probes were made (--no-probes)".into());
        None
    } else {
        let session_policy = copy.session_policy.as_ref().map(|d| match &d.raw {
            crate::snapshot::model::RawPolicy::Text(t) => t.clone(),
            crate::snapshot::model::RawPolicy::Json(v) => v.to_string(),
        });
        match aws::role_session(&b, &copy.principal, session_policy.as_deref()).await {
            RoleSession::Ready(r) => Some(*r),
            RoleSession::Unavailable(why) => {
                notes.push(why);
                None
            }
        }
    };

    let src = &copy.source;
    let dst = &copy.destination;
    let mut probes: Vec<Probe> = Vec::new();
    // the probes send what the copy sends
    let payer = copy
        .header("x-amz-request-payer")
        .is_some_and(|v| v.eq_ignore_ascii_case("requester"));

    // Phase 1: everything that does not depend on another read.
    let role_read = iam::read_role(&b, &copy.principal);
    let dst_read = s3::read_bucket(&b, &dst.bucket, false);
    let org_b = iam::read_organization(&b);
    let a_reads = async {
        match &a {
            Some(a) => Some(tokio::join!(
                s3::read_bucket(a, &src.bucket, true),
                iam::read_organization(a)
            )),
            None => None,
        }
    };
    // The objects: as the role (probes), else as A (reads).
    let objects = async {
        let (who, as_probe) = match (&role, &a) {
            (Some(r), _) => (r, true),
            (None, Some(a)) => (a, false),
            (None, None) => return (None, None, Vec::new()),
        };
        let (src_region, head) = s3::head_bucket(who, &src.bucket).await;
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
        let sample = s3::sample(
            who,
            as_probe,
            as_probe && payer,
            &src.bucket,
            &src.prefix,
            src_region.as_deref(),
            args.sample,
            args.census,
            args.concurrency,
        )
        .await;
        probes.extend(sample.probes.iter().cloned());
        // the role may not list: the probe says so; A's credentials still
        // tell what the objects are
        if as_probe
            && sample.objects.unreadable().is_some()
            && let Some(a) = &a
        {
            let by_a = s3::sample(
                a,
                false,
                false,
                &src.bucket,
                &src.prefix,
                src_region.as_deref(),
                args.sample,
                args.census,
                args.concurrency,
            )
            .await;
            return (src_region, Some(by_a), probes);
        }
        (src_region, Some(sample), probes)
    };
    let dst_head = async {
        match &role {
            Some(r) => Some(s3::head_bucket(r, &dst.bucket).await),
            None => None,
        }
    };
    let (
        (role_name, role_field),
        (dst_bucket, b_canonical, dst_notes),
        org_b,
        a_reads,
        objects,
        dst_head,
    ) = tokio::join!(role_read, dst_read, org_b, a_reads, objects, dst_head);
    notes.extend(dst_notes);
    let (src_region_probe, sample, object_probes) = objects;
    probes.extend(object_probes);

    let (mut src_bucket, a_canonical, org_a) = match a_reads {
        Some(((bucket, canonical, n), org)) => {
            notes.extend(n);
            (Some(bucket), canonical, Some(org))
        }
        None => (None, None, None),
    };

    // Phase 2: keys (their ids come from the reads above) and the probes on them.
    let dst_key = dest_key_id(&copy, &dst_bucket);
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
    if let Some(Field::Value(bk)) = &src_bucket
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
    let dst_region = dst_bucket
        .value()
        .and_then(|bk| bk.region.clone())
        .unwrap_or_else(|| b.region().to_string());
    let src_region = src_bucket
        .as_ref()
        .and_then(|f| f.value())
        .and_then(|bk| bk.region.clone())
        .or(src_region_probe.clone())
        .unwrap_or_else(|| b.region().to_string());

    // Which account reads which key: B the destination's, A the source's.
    let mut key_jobs: Vec<(&Account, String, String)> = Vec::new();
    if let Some(k) = &dst_key {
        match kms::arn_parts(k) {
            Some((_, acct)) if acct != b.account => notes.push(format!(
                "the destination key {k} is in account {acct}, not B: it was not read"
            )),
            _ => key_jobs.push((&b, k.clone(), dst_region.clone())),
        }
    }
    for k in &src_keys {
        let acct = kms::arn_parts(k).map(|(_, acct)| acct.to_string());
        let reader = match (&a, acct.as_deref()) {
            (Some(a), Some(acct)) if acct == a.account => Some(a),
            (_, Some(acct)) if acct == b.account => Some(&b),
            (Some(a), None) => Some(a),
            _ => None,
        };
        match reader {
            Some(r) => {
                if !key_jobs.iter().any(|(_, id, _)| id == k) {
                    key_jobs.push((r, k.clone(), src_region.clone()))
                }
            }
            None => notes.push(format!(
                "the source key {k} was not read: no credentials for account {} (give --source-profile)",
                acct.as_deref().unwrap_or("A")
            )),
        }
    }
    let key_reads =
        futures::future::join_all(key_jobs.iter().map(|(who, id, region)| async move {
            (
                who.account.clone(),
                id.clone(),
                kms::read_key(who, id, region).await,
            )
        }));

    // The probes on keys and objects, as the role.
    let role_probes = async {
        let Some(r) = &role else { return Vec::new() };
        let mut out = Vec::new();
        // the decrypt test: one object per KMS key in the sample
        let mut tested: BTreeSet<String> = BTreeSet::new();
        let mut gets = Vec::new();
        if let Some(Field::Value(objs)) = sample.as_ref().map(|s| &s.objects) {
            for (key, o) in objs {
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
        }
        for key in &gets {
            out.push(probes::decrypt_test(r, &src.bucket, Some(&src_region), key, payer).await);
        }
        // the encryption context S3 would send for an object under each key:
        // the object ARN, or the bucket ARN with a Bucket Key
        let context_for = |key: &str| -> String {
            let objs = match sample.as_ref().map(|s| &s.objects) {
                Some(Field::Value(objs)) => Some(objs),
                _ => None,
            };
            objs.into_iter()
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
        for k in src_keys.iter().filter(|k| kms::arn_parts(k).is_some()) {
            out.push(probes::decrypt_dry_run(r, k, &context_for(k)).await);
        }
        out
    };
    let (key_results, mut role_probe_list) = tokio::join!(key_reads, role_probes);

    let mut keys_b: BTreeMap<String, Field<Key>> = BTreeMap::new();
    let mut keys_a: BTreeMap<String, Field<Key>> = BTreeMap::new();
    let mut dst_key_arn = dst_key.clone();
    for (acct, id, res) in key_results {
        match res {
            Ok((arn, field, n)) => {
                notes.extend(n);
                if Some(&id) == dst_key.as_ref() {
                    dst_key_arn = Some(arn.clone());
                }
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
    if let Some(r) = &role {
        if let Some((_, head)) = &dst_head {
            match head {
                Ok(()) => probes.push(Probe {
                    as_principal: Some(r.arn.clone()),
                    call: "s3:ListBucket".into(),
                    target: dst.bucket_arn(),
                    detail: Some(format!("HeadBucket (region {dst_region})")),
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
        if let Some(k) = &dst_key_arn {
            let bucket_key = dst_bucket
                .value()
                .and_then(|bk| bk.encryption.value())
                .and_then(|e| e.as_ref())
                .and_then(|e| e.bucket_key)
                .unwrap_or(false);
            let ctx = if bucket_key {
                dst.bucket_arn()
            } else {
                format!(
                    "arn:aws:s3:::{}/{}xacct-example-object",
                    dst.bucket, dst.prefix
                )
            };
            probes.push(probes::generate_dry_run(r, k, &ctx).await);
        }
        if args.probe_writes {
            probes.extend(probes::write_probe(r, &copy, Some(&dst_region)).await);
        }
    }

    // Whose objects are they: canonical ids mapped to accounts.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    if let Some(c) = &b_canonical {
        owners.insert(c.clone(), b.account.clone());
    }
    if let (Some(c), Some(id)) = (&a_canonical, &a_id) {
        // A wins when both accounts show the same id (a local AWS does that)
        owners.insert(c.clone(), id.clone());
    }
    let (mut objects, census) = match sample {
        Some(s) => {
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
    acct_b.buckets.insert(dst.bucket.clone(), dst_bucket);
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
                None if has_objects || src_region_probe.is_some() => Some(Field::Value(Bucket {
                    name: src.bucket.clone(),
                    pointer: docs::bucket_ptr(id, &src.bucket),
                    region: src_region_probe.clone(),
                    policy: Field::NotRead,
                    encryption: Field::NotRead,
                    ownership: Field::NotRead,
                    requester_pays: Field::NotRead,
                    public_access_block: Field::NotRead,
                    census: None,
                    objects: Field::NotRead,
                })),
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

    // Cross-check the role's identity side with the IAM policy simulator.
    notes.extend(cross_check(&b, &snap).await);
    snap.notes = notes;
    Ok(snap)
}

/// Ask the IAM policy simulator what the role's identity policies allow and
/// compare with the local engine (XA006, XA007); a disagreement is a note,
/// the local verdict stands.
async fn cross_check(b: &Account, snap: &Snapshot) -> Vec<String> {
    let plan = crate::checks::plan::Plan::new(snap);
    let src = &snap.copy.source;
    let object = plan
        .objects
        .first()
        .map(|o| format!("{}/{}", src.bucket_arn(), o.key))
        .unwrap_or_else(|| format!("{}/{}xacct-example-object", src.bucket_arn(), src.prefix));
    let mut requests: Vec<(&str, String)> = vec![
        ("s3:ListBucket", src.bucket_arn()),
        ("s3:GetObject", object),
    ];
    for k in &plan.source_keys {
        requests.push(("kms:Decrypt", k.clone()));
    }
    let results = match iam::simulate(b, &snap.copy.principal, &requests).await {
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
