//! XA015 objects-copyable: no source object is in GLACIER or DEEP_ARCHIVE (or an
//! archive tier of INTELLIGENT_TIERING) without a completed restore.

use super::ctx::{Ctx, Found};
use super::{Finding, Fix, Status};

const ID: &str = "XA015";

fn archived(storage_class: &str, archive_status: Option<&str>) -> bool {
    matches!(storage_class, "GLACIER" | "DEEP_ARCHIVE")
        || (storage_class == "INTELLIGENT_TIERING"
            && matches!(
                archive_status,
                Some("ARCHIVE_ACCESS" | "DEEP_ARCHIVE_ACCESS")
            ))
}

pub fn run(c: &Ctx<'_>) -> Finding {
    let src = &c.s.copy.source;
    let bucket = match c.bucket(&src.bucket) {
        Found::Yes(b) => b,
        Found::Missing(u) => {
            return Finding::new(
                ID,
                Status::Skip,
                format!("the source bucket does not exist ({})", u.describe()),
            );
        }
        Found::Unknown(why) => {
            return Finding::new(
                ID,
                Status::Unknown,
                format!("cannot see the source objects: {why}"),
            );
        }
    };
    let mut fails = Vec::new();
    let mut unknowns = Vec::new();
    let sampled: Vec<_> = c.plan.objects.iter().filter(|o| !o.stand_in).collect();
    for o in &sampled {
        let Some(obj) = &o.object else {
            unknowns.push(format!("{} could not be read", o.key));
            continue;
        };
        let Some(sc) = obj.storage_class.as_deref() else {
            unknowns.push(format!("the storage class of {} was not read", o.key));
            continue;
        };
        if archived(sc, obj.archive_status.as_deref()) {
            match obj.restore.as_ref().and_then(|r| r.as_deref()) {
                Some("completed") => {}
                Some("ongoing") => fails.push(format!("{} is in {sc} and its restore is still in progress", o.key)),
                _ if obj.restore.is_none() => unknowns.push(format!("{} is in {sc} and its restore status was not read", o.key)),
                _ => fails.push(format!("{} is in {sc} and has not been restored: the copy gets InvalidObjectState (403)", o.key)),
            }
        }
    }
    if let Some(cs) = &bucket.census {
        let n: u64 = cs
            .by_storage_class
            .iter()
            .filter(|(k, _)| archived(k, None))
            .map(|(_, v)| v)
            .sum();
        if n > 0 {
            let ex = ["GLACIER", "DEEP_ARCHIVE"]
                .iter()
                .find_map(|k| cs.examples.get(*k).and_then(|v| v.first()))
                .map(|k| format!(", e.g. {k}"))
                .unwrap_or_default();
            unknowns.push(format!(
                "the census counts {n} objects in GLACIER or DEEP_ARCHIVE{ex}; whether each was restored is not in the census"
            ));
        }
    }
    if sampled.is_empty() && bucket.census.is_none() && !c.plan.objects_known {
        unknowns.push(format!("the objects of {} were not read", src.bucket));
    }
    if let Some(first) = fails.first() {
        let mut f = Finding::new(ID, Status::Fail, first.clone()).with_fix(Some(Fix {
            summary: "restore the archived objects first (then copy with --force-glacier-transfer)".into(),
            account: c.plan.a.clone(),
            document: format!("objects of {}", src.bucket),
            statement: None,
            command: Some(format!(
                "aws s3api restore-object --bucket {} --key KEY --restore-request '{{\"Days\":7,\"GlacierJobParameters\":{{\"Tier\":\"Standard\"}}}}'",
                src.bucket
            )),
        }));
        f.details.extend(fails.iter().skip(1).cloned());
        return f;
    }
    if let Some(u) = unknowns.first() {
        let mut f = Finding::new(ID, Status::Unknown, u.clone());
        f.details.extend(unknowns.iter().skip(1).cloned());
        return f;
    }
    Finding::new(
        ID,
        Status::Pass,
        format!("no sampled object of {src} is archived without a completed restore"),
    )
}
