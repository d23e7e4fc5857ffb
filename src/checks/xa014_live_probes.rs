//! XA014 live-probes-agree: every live probe made as P succeeded. A failed
//! probe is quoted; when static analysis passed the link it tests, something
//! the documents do not show denies (SCP, RCP, VPC endpoint policy, ACL).

use crate::snapshot::model::{Outcome, Probe};

use super::ctx::Ctx;
use super::{Finding, Status};

const ID: &str = "XA014";

/// The links a probe exercises.
fn links(p: &Probe, c: &Ctx<'_>) -> Vec<&'static str> {
    let call = p.call.to_ascii_lowercase();
    let on_source = p.target.contains(&format!(":::{}", c.s.copy.source.bucket))
        || p.target.contains(&c.s.copy.source.bucket);
    let ranged = p
        .detail
        .as_deref()
        .is_some_and(|d| d.to_ascii_lowercase().contains("range"));
    match call.as_str() {
        "s3:listobjectsv2" | "s3:listbucket" | "s3:headbucket" => vec!["XA002", "XA006", "XA016"],
        "s3:getobject" if ranged => vec!["XA003", "XA007"],
        "s3:headobject" | "s3:getobject" if on_source => vec!["XA002", "XA006", "XA011", "XA016"],
        "kms:decrypt" if on_source || c.plan.source_keys.contains(&p.target) => {
            vec!["XA003", "XA007"]
        }
        "kms:decrypt" | "kms:generatedatakey" => vec!["XA004"],
        "s3:createmultipartupload" | "s3:putobject" | "s3:abortmultipartupload" => {
            vec!["XA005", "XA004"]
        }
        _ => Vec::new(),
    }
}

fn is_dry_run(p: &Probe) -> bool {
    p.call.to_ascii_lowercase().starts_with("kms:")
        && p.detail.as_deref().is_some_and(|d| {
            d.to_ascii_lowercase().contains("dryrun") || d.to_ascii_lowercase().contains("dry run")
        })
}

/// A fault, not an answer: throttling, 5xx, timeouts, broken connections. Such
/// a probe proves nothing either way.
fn is_fault(p: &Probe) -> bool {
    match &p.outcome {
        Outcome::Ok => false,
        Outcome::Error { error, .. } => {
            let e = error.to_ascii_lowercase();
            [
                "throttl",
                "slowdown",
                // InternalError (S3), InternalFailure (IAM, STS),
                // KMSInternalException, ServiceFailure
                "internal",
                "servicefailure",
                "unavailable",
                "limitexceeded",
                "priorrequestnotcomplete",
                "requesttimeout",
                "timeout",
                "timedout",
                "connection",
                "dispatch",
                "network",
                "incompleteresponse",
                "http5",
                "503",
                "500",
                "toomanyrequests",
                "requestlimitexceeded",
            ]
            .iter()
            .any(|k| e.contains(k))
        }
    }
}

fn quote(p: &Probe) -> String {
    match &p.outcome {
        Outcome::Ok => format!("{} on {} succeeded", p.call, p.target),
        Outcome::Error { error, message } => {
            let detail = p
                .detail
                .as_deref()
                .map(|d| format!(" [{d}]"))
                .unwrap_or_default();
            if message.is_empty() {
                format!("{} on {}{detail} failed: {error}", p.call, p.target)
            } else {
                format!(
                    "{} on {}{detail} failed: {error}: {message}",
                    p.call, p.target
                )
            }
        }
    }
}

pub fn run(c: &Ctx<'_>) -> Finding {
    let probes = &c.s.probes;
    if probes.is_empty() {
        return Finding::new(
            ID,
            Status::Skip,
            "no live probes were made (offline snapshot)",
        );
    }
    let failed: Vec<&Probe> = probes
        .iter()
        .filter(|p| !p.succeeded() && !is_dry_run(p) && !is_fault(p))
        .collect();
    let dry_failed: Vec<&Probe> = probes
        .iter()
        .filter(|p| !p.succeeded() && is_dry_run(p) && !is_fault(p))
        .collect();
    let faults: Vec<&Probe> = probes.iter().filter(|p| is_fault(p)).collect();
    if let Some(first) = failed.first() {
        let mut f = Finding::new(
            ID,
            Status::Fail,
            format!("a probe made as the role failed: {}", quote(first)),
        );
        for p in failed.iter().skip(1) {
            f.details.push(format!("also failed: {}", quote(p)));
        }
        for p in &failed {
            for l in links(p, c) {
                if !f.related.contains(&l) {
                    f.related.push(l);
                }
            }
        }
        return f;
    }
    if let Some(first) = faults.first() {
        let mut f = Finding::new(
            ID,
            Status::Unknown,
            format!(
                "a probe could not complete, so it proves nothing: {}",
                quote(first)
            ),
        );
        for p in faults.iter().skip(1) {
            f.details.push(format!("also incomplete: {}", quote(p)));
        }
        return f;
    }
    if let Some(first) = dry_failed.first() {
        return Finding::new(
            ID,
            Status::Warn,
            format!(
                "{} — a KMS DryRun is a direct call without kms:ViaService, so a key policy that allows the role only through S3 refuses it even though the copy works",
                quote(first)
            ),
        );
    }
    Finding::new(
        ID,
        Status::Pass,
        format!(
            "all {} live probes made as the role succeeded",
            probes.len()
        ),
    )
}

/// When a probe failed but static analysis passed the link it tests, say so.
pub fn annotate(findings: &mut [Finding]) {
    let Some(i) = findings
        .iter()
        .position(|f| f.id == ID && f.status == Status::Fail)
    else {
        return;
    };
    let passed: Vec<&'static str> = findings[i]
        .related
        .iter()
        .copied()
        .filter(|id| {
            findings
                .iter()
                .any(|f| f.id == *id && f.status == Status::Pass)
        })
        .collect();
    if !passed.is_empty() {
        findings[i].details.push(format!(
            "static analysis passed {} for this request: something not visible in the documents denies it (an SCP, an RCP, a VPC endpoint policy, an ACL, or a document that differs from the snapshot)",
            passed.join(", ")
        ));
    }
}
