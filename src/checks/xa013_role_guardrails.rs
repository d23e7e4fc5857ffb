//! XA013 role-guardrails-allow: P's permissions boundary, the session policy in
//! `copy.session_policy`, and the VPC endpoint policy the S3 requests pass
//! through each allow every request of the copy.

use crate::policy::CtxValue;
use crate::policy::eval::PolicySet;
use crate::snapshot::model::Field;

use super::ctx::{
    Ctx, Docs, Found, LinkWords, Trial, Want, identity_statements, labeled, link_finding,
};
use super::plan::Step;
use super::{Finding, Fix, Status};

const ID: &str = "XA013";

pub fn run(c: &Ctx<'_>) -> Finding {
    let mut docs = Docs::default();
    let mut boundary = None;
    match c.role() {
        Found::Yes(r) => {
            let (d, missing) = c.doc_field(
                &r.permissions_boundary,
                "the permissions boundary of the role",
            );
            boundary = d;
            docs.missing.extend(missing);
        }
        Found::Missing(u) => docs.missing.push(u.describe()),
        Found::Unknown(why) => docs.missing.push(why),
    }
    let session = c.s.copy.session_policy.as_ref();
    // the endpoint named by aws:SourceVpce in copy.context
    let vpce =
        c.s.copy
            .context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("aws:SourceVpce"))
            .and_then(|(_, v)| match v {
                CtxValue::Single(s) => Some(s.clone()),
                CtxValue::Multi(v) => v.first().cloned(),
            });
    let mut endpoint = None;
    if let Some(id) = &vpce {
        match c
            .s
            .accounts
            .get(&c.plan.b)
            .and_then(|a| a.vpc_endpoints.get(id))
        {
            Some(Field::Value(e)) => {
                let (d, missing) =
                    c.doc_field(&e.policy, &format!("the policy of VPC endpoint {id}"));
                endpoint = d;
                docs.missing.extend(missing);
            }
            Some(Field::Unreadable(u)) => docs
                .missing
                .push(format!("VPC endpoint {id}: {}", u.describe())),
            _ => docs.missing.push(format!(
                "the policy of VPC endpoint {id} (copy.context aws:SourceVpce) was not read"
            )),
        }
    }
    if boundary.is_none() && session.is_none() && endpoint.is_none() && docs.missing.is_empty() {
        return Finding::new(
            ID,
            Status::Pass,
            "the role has no permissions boundary, no session policy is passed, and no VPC endpoint is on the path",
        );
    }
    for d in [boundary, session, endpoint].into_iter().flatten() {
        docs.add(d);
    }
    let reqs = c.plan.all_requests(c.s);
    let j = c.judge(&reqs, &docs, Want::Guardrails, |r| PolicySet {
        boundaries: boundary.map(labeled).into_iter().collect(),
        session: session.map(labeled),
        // the gateway endpoint carries the S3 requests, not S3's calls to KMS
        endpoints: if matches!(
            r.step,
            Step::DecryptSource | Step::EncryptDestination | Step::DecryptDestination
        ) {
            Vec::new()
        } else {
            endpoint.map(labeled).into_iter().collect()
        },
        ..Default::default()
    });
    let fix = |fails: &[&Trial<'_>]| {
        let t = fails.first()?;
        let g = &t.decision.gates;
        let (doc, what) = if g.boundary.is_false() {
            (boundary, "permissions boundary")
        } else if g.session.is_false() {
            (session, "session policy")
        } else {
            (endpoint, "VPC endpoint policy")
        };
        let doc = doc?;
        let mut stmts = identity_statements(fails, "XacctCopy");
        if what == "VPC endpoint policy" {
            for s in &mut stmts {
                if let Some(o) = s.as_object_mut() {
                    o.insert("Principal".into(), serde_json::json!("*"));
                }
            }
        }
        Some(Fix {
            summary: format!("the {what} does not allow this request: add the statement to it"),
            account: Some(c.plan.b.clone()),
            document: doc.title.clone(),
            statement: Some(serde_json::Value::Array(stmts)),
            command: match what {
                "permissions boundary" => Some("aws iam create-policy-version --policy-arn BOUNDARY-POLICY-ARN --policy-document file://boundary.json --set-as-default".into()),
                "VPC endpoint policy" => vpce.as_ref().map(|id| format!("aws ec2 modify-vpc-endpoint --vpc-endpoint-id {id} --policy-document file://endpoint-policy.json")),
                _ => Some("pass a session policy that includes the statement when assuming the role (aws sts assume-role --policy file://session.json)".into()),
            },
        })
    };
    link_finding(
        c,
        &j,
        &docs,
        Want::Guardrails,
        LinkWords {
            id: ID,
            subject: "the role's guardrails (permissions boundary, session policy, VPC endpoint policy)".into(),
            pass: "the permissions boundary, session policy and VPC endpoint policy allow every request of the copy".into(),
            grant_fix: &fix,
            corrected: None,
            corrected_command: None,
        },
    )
}
