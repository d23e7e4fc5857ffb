//! XA005 role-can-write-destination: P may `s3:PutObject` into DB — an allow in
//! its identity policies or DB's bucket policy, and no deny in either
//! (including header conditions the copy's requests do not meet).

use crate::policy::eval::PolicySet;

use super::ctx::{
    Ctx, Found, LinkWords, Trial, Want, identity_statements, labeled, link_finding, role_policy_fix,
};
use super::{Finding, Status};

const ID: &str = "XA005";

pub fn run(c: &Ctx<'_>) -> Finding {
    let dst = &c.s.copy.destination;
    let p = &c.plan.role_arn;
    let reqs = c.plan.write_requests(c.s);
    let mut docs = c.identity_docs();
    let mut bucket_doc = None;
    match c.bucket(&dst.bucket) {
        Found::Yes(b) => {
            let (d, missing) =
                c.doc_field(&b.policy, &format!("the bucket policy of {}", dst.bucket));
            bucket_doc = d;
            if let Some(m) = missing {
                docs.missing.push(m);
            }
        }
        Found::Missing(u) => {
            return Finding::new(
                ID,
                Status::Fail,
                format!(
                    "the destination bucket {} does not exist ({})",
                    dst.bucket,
                    u.describe()
                ),
            );
        }
        Found::Unknown(why) => docs.missing.push(why),
    }
    if let Some(d) = bucket_doc {
        docs.add(d);
    }
    let identity: Vec<_> = docs
        .docs
        .iter()
        .filter(|d| Some(**d) != bucket_doc)
        .map(|d| labeled(d))
        .collect();
    let j = c.judge(&reqs, &docs, Want::Full, |_| PolicySet {
        identity: identity.clone(),
        resource: bucket_doc.map(labeled),
        ..Default::default()
    });
    let plan = c.plan;
    let fix = move |fails: &[&Trial<'_>]| {
        Some(role_policy_fix(
            plan,
            identity_statements(fails, "XacctWriteDestination"),
            "allow the role to write the destination objects".into(),
        ))
    };
    let mut f = link_finding(
        c,
        &j,
        &docs,
        Want::Full,
        LinkWords {
            id: ID,
            subject: format!("the role's policies or the bucket policy of {}", dst.bucket),
            pass: format!("{p} may s3:PutObject into {}", dst),
            grant_fix: &fix,
            corrected: None,
            corrected_command: None,
        },
    );
    if f.status == Status::Fail && f.message.contains("explicitly denies") {
        let headers: Vec<&String> = c.s.copy.request.keys().collect();
        if f.evidence.iter().any(|e| e.note.contains("explicitly")) {
            f.details.push(if headers.is_empty() {
                "the copy sends no extra headers (copy.request): a condition on a request header such as s3:x-amz-server-side-encryption sees it absent".into()
            } else {
                format!("the copy sends these headers: {}", headers.iter().map(|h| h.as_str()).collect::<Vec<_>>().join(", "))
            });
        }
    }
    f
}
