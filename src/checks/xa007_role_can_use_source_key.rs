//! XA007 role-can-use-source-key: P's identity policies allow `kms:Decrypt` on
//! each source key's ARN (or a grant to P covers it), and do not deny it.

use crate::policy::eval::PolicySet;

use super::ctx::{
    Ctx, Found, LinkWords, Trial, Want, identity_statements, link_finding, role_policy_fix,
};
use super::xa003_source_key_policy::grants_of;
use super::{Finding, Status};

const ID: &str = "XA007";

pub fn run(c: &Ctx<'_>) -> Finding {
    let p = &c.plan.role_arn;
    let reqs = c.plan.decrypt_requests(c.s);
    if reqs.is_empty() {
        return match c.plan.objects.iter().any(|o| o.encryption.is_none()) {
            true => Finding::new(
                ID,
                Status::Unknown,
                "cannot tell which KMS key encrypts the source objects: their encryption was not read",
            ),
            false => Finding::new(ID, Status::Skip, "no source object is SSE-KMS encrypted"),
        };
    }
    let docs = c.identity_docs();
    let mut grants = Vec::new();
    for k in &c.plan.source_keys {
        if let Found::Yes(key) = c.key(k) {
            grants.extend(grants_of(key));
        }
    }
    let labels = docs.labeled();
    let j = c.judge(&reqs, &docs, Want::IdentityOrGrant, |_| PolicySet {
        identity: labels.clone(),
        grants: grants.clone(),
        ..Default::default()
    });
    let plan = c.plan;
    let fix = move |fails: &[&Trial<'_>]| {
        Some(role_policy_fix(
            plan,
            identity_statements(fails, "XacctSourceKey"),
            "allow the role kms:Decrypt on the source key's ARN (an alias or key id in Resource does not match)".into(),
        ))
    };
    link_finding(
        c,
        &j,
        &docs,
        Want::IdentityOrGrant,
        LinkWords {
            id: ID,
            subject: "the role's identity policies".into(),
            pass: format!(
                "the policies of {p} allow kms:Decrypt on {}",
                c.plan.source_keys.join(", ")
            ),
            grant_fix: &fix,
            corrected: None,
            corrected_command: None,
        },
    )
}
