//! XA006 role-can-read-source: P's identity policies allow `s3:ListBucket` on SB
//! and `s3:GetObject` on the objects, and deny neither.

use crate::policy::eval::PolicySet;

use super::Finding;
use super::ctx::{Ctx, LinkWords, Trial, Want, identity_statements, link_finding, role_policy_fix};

const ID: &str = "XA006";

pub fn run(c: &Ctx<'_>) -> Finding {
    let p = &c.plan.role_arn;
    let reqs = c.plan.source_requests(c.s);
    let docs = c.identity_docs();
    let labels = docs.labeled();
    let j = c.judge(&reqs, &docs, Want::Identity, |_| PolicySet {
        identity: labels.clone(),
        ..Default::default()
    });
    let plan = c.plan;
    let fix = move |fails: &[&Trial<'_>]| {
        Some(role_policy_fix(
            plan,
            identity_statements(fails, "XacctReadSource"),
            "allow the role to list and read the source bucket".into(),
        ))
    };
    link_finding(
        c,
        &j,
        &docs,
        Want::Identity,
        LinkWords {
            id: ID,
            subject: "the role's identity policies".into(),
            pass: format!(
                "the policies of {p} allow listing and reading {}",
                c.s.copy.source
            ),
            grant_fix: &fix,
            corrected: None,
            corrected_command: None,
        },
    )
}
