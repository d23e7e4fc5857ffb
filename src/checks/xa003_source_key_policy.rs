//! XA003 source-key-policy-allows-role: each source key's policy (or a grant)
//! lets P `kms:Decrypt` with the context S3 uses, and does not deny it.

use serde_json::json;

use crate::policy::eval::{Grant, PolicySet};
use crate::snapshot::model::{Field, Key};

use super::ctx::{Ctx, Docs, LinkWords, Trial, Want, key_policy_fix, labeled, link_finding};
use super::plan::PlannedRequest;
use super::{Finding, Status};

const ID: &str = "XA003";

/// The grants of a key in the engine's form.
pub fn grants_of(k: &Key) -> Vec<Grant> {
    match &k.grants {
        Field::Value(gs) => gs
            .iter()
            .enumerate()
            .map(|(i, g)| Grant {
                label: format!("{}/grants/{i}", k.pointer),
                grantee: g.grantee.clone(),
                operations: g
                    .operations
                    .iter()
                    .map(|o| o.trim_start_matches("kms:").to_string())
                    .collect(),
                encryption_context_subset: g
                    .constraints
                    .as_ref()
                    .and_then(|c| c.encryption_context_subset.clone()),
                encryption_context_equals: g
                    .constraints
                    .as_ref()
                    .and_then(|c| c.encryption_context_equals.clone()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The statement that lets P decrypt through S3.
pub fn decrypt_statement(c: &Ctx<'_>, key_arn: &str) -> serde_json::Value {
    let region = crate::arn::region(key_arn).unwrap_or("REGION");
    json!({
        "Sid": "XacctCopyRoleDecryptViaS3",
        "Effect": "Allow",
        "Principal": {"AWS": c.plan.role_arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {
            "kms:ViaService": format!("s3.{}.amazonaws.com", c.plan.src_region.as_deref().unwrap_or(region)),
            "kms:CallerAccount": c.plan.b,
        }}
    })
}

pub fn run(c: &Ctx<'_>) -> Finding {
    let all = c.plan.decrypt_requests(c.s);
    if all.is_empty() {
        return match c.plan.objects.iter().any(|o| o.encryption.is_none()) {
            true => Finding::new(
                ID,
                Status::Unknown,
                "cannot tell which KMS key encrypts the source objects: their encryption was not read",
            ),
            false => Finding::new(
                ID,
                Status::Skip,
                "no source object is SSE-KMS encrypted: there is no source key to decrypt with",
            ),
        };
    }
    let mut findings = Vec::new();
    for key_arn in &c.plan.source_keys {
        let reqs: Vec<PlannedRequest> = all
            .iter()
            .filter(|r| &r.request.resource == key_arn)
            .cloned()
            .collect();
        if reqs.is_empty() {
            continue;
        }
        findings.push(one_key(c, key_arn, &reqs));
    }
    // worst status first: fail, unknown, then pass
    findings.sort_by_key(|f| std::cmp::Reverse(f.status));
    let mut it = findings.into_iter();
    let Some(mut first) = it.next() else {
        return Finding::new(ID, Status::Skip, "no source key to judge");
    };
    for f in it {
        if f.status != Status::Pass {
            first
                .details
                .push(format!("{}: {}", f.status.as_str(), f.message));
        }
    }
    first
}

fn one_key(c: &Ctx<'_>, key_arn: &str, reqs: &[PlannedRequest]) -> Finding {
    let p = &c.plan.role_arn;
    let (key, doc) = match c.key_and_policy(ID, "source", key_arn) {
        Ok(kd) => kd,
        Err(f) if f.message.contains("has no key policy") => {
            return (*f).with_fix(Some(key_policy_fix(
                key_arn,
                vec![decrypt_statement(c, key_arn)],
                "give the key a policy that lets the role decrypt".into(),
            )));
        }
        Err(f) => return *f,
    };
    let mut docs = Docs::default();
    docs.add(doc);
    if let Field::Unreadable(u) = &key.grants {
        docs.missing
            .push(format!("grants of {key_arn}: {}", u.describe()));
    }
    let grants = grants_of(key);
    let j = c.judge(reqs, &docs, Want::ResourceOrGrant, |_| PolicySet {
        resource: Some(labeled(doc)),
        grants: grants.clone(),
        ..Default::default()
    });
    let stmt = decrypt_statement(c, key_arn);
    let stmt2 = stmt.clone();
    let fix = move |_f: &[&Trial<'_>]| {
        Some(key_policy_fix(
            key_arn,
            vec![stmt2.clone()],
            "add to the key policy of the source key (account A); keep its existing statements"
                .into(),
        ))
    };
    let mut f = link_finding(
        c,
        &j,
        &docs,
        Want::ResourceOrGrant,
        LinkWords {
            id: ID,
            subject: format!("the key policy of {key_arn}"),
            pass: format!("the key policy of {key_arn} lets {p} decrypt through S3"),
            grant_fix: &fix,
            corrected: Some(stmt),
            corrected_command: Some(super::ctx::key_policy_command(key_arn)),
        },
    );
    if f.status == Status::Fail && key.is_aws_managed() == Some(true) {
        f.details.push(
            "this is an AWS managed key (aws/s3): its policy cannot be changed; see XA008".into(),
        );
        f.fix = None;
    }
    f
}
