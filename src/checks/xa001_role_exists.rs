//! XA001 role-exists: P exists in B, and (when `copy.caller` is given) P's trust
//! policy lets the caller `sts:AssumeRole`.

use serde_json::json;

use crate::policy::eval::PolicySet;
use crate::policy::{Context, Missing, Principal, Request, Tri};
use crate::snapshot::model::Field;

use super::ctx::{
    Ctx, Docs, Found, Want, defect_fix, defect_summary, invalid_evidence, labeled, unknown_message,
};
use super::plan::{PlannedRequest, Step};
use super::{Finding, Fix, Status};

const ID: &str = "XA001";

pub fn run(c: &Ctx<'_>) -> Finding {
    let p = &c.plan.role_arn;
    let role = match c.role() {
        Found::Yes(r) => r,
        Found::Missing(u) => {
            let name = p.rsplit('/').next().unwrap_or("ROLE");
            return Finding::new(ID, Status::Fail, format!("the copying role {p} does not exist in account {} ({})", c.plan.b, u.describe()))
                .with_fix(Some(Fix {
                    summary: format!("create the role {name} in account {} (or correct copy.principal)", c.plan.b),
                    account: Some(c.plan.b.clone()),
                    document: format!("role {name}"),
                    statement: None,
                    command: Some(format!(
                        "aws iam create-role --role-name {name} --assume-role-policy-document file://trust-policy.json"
                    )),
                }));
        }
        Found::Unknown(why) => {
            return Finding::new(
                ID,
                Status::Unknown,
                format!("cannot tell whether {p} exists: {why}"),
            );
        }
    };
    let Some(caller) = &c.s.copy.caller else {
        return Finding::new(
            ID,
            Status::Pass,
            format!("the role {p} exists in account {}", c.plan.b),
        );
    };
    let trust = match &role.trust_policy {
        Field::Value(d) => d,
        Field::Unreadable(u) => {
            return Finding::new(
                ID,
                Status::Unknown,
                format!("the trust policy of {p} is unreadable: {}", u.describe()),
            );
        }
        Field::NotRead => {
            return Finding::new(
                ID,
                Status::Unknown,
                format!("the trust policy of {p} was not read"),
            );
        }
    };
    let Ok(caller_p) = Principal::parse(caller) else {
        return Finding::new(
            ID,
            Status::Unknown,
            format!("copy.caller `{caller}` is not a principal"),
        );
    };
    let mut req = Request {
        principal: caller_p,
        action: "sts:AssumeRole".into(),
        resource: role.arn.clone(),
        resource_account: Some(c.plan.b.clone()),
        context: Context::with_missing(Missing::Unknown),
    };
    req.context.set_str("aws:SecureTransport", "true");
    req.derive_context();
    let planned = [PlannedRequest {
        step: Step::AssumeRole,
        request: req,
        object: None,
        note: String::new(),
        alternative: 0,
    }];
    let mut docs = Docs::default();
    docs.add(trust);
    let j = c.judge(&planned, &docs, Want::Resource, |_| PolicySet {
        resource: Some(labeled(trust)),
        ..Default::default()
    });
    let statement = json!({
        "Effect": "Allow",
        "Principal": {"AWS": caller},
        "Action": "sts:AssumeRole"
    });
    let role_name = role.arn.rsplit('/').next().unwrap_or("ROLE");
    let fix = Fix {
        summary: format!(
            "let {caller} assume the role: add this statement to the trust policy of {role_name}"
        ),
        account: Some(c.plan.b.clone()),
        document: trust.title.clone(),
        statement: Some(statement),
        command: Some(format!(
            "aws iam update-assume-role-policy --role-name {role_name} --policy-document file://trust-policy.json"
        )),
    };
    if !j.invalid.is_empty() {
        return Finding::new(
            ID,
            Status::Fail,
            format!("the role exists, but {}", defect_summary(&j.invalid)),
        )
        .with_evidence(invalid_evidence(&j.invalid))
        .with_fix(Some(defect_fix(
            &j.invalid,
            fix.statement.clone(),
            fix.command.clone(),
        )));
    }
    match j.tri {
        Tri::True => Finding::new(
            ID,
            Status::Pass,
            format!("the role {p} exists and its trust policy lets {caller} assume it"),
        ),
        Tri::False => {
            let t = j.first(Tri::False);
            let denied = t.is_some_and(|t| Want::Resource.denied(&t.decision));
            let ev = t
                .map(|t| c.evidence(&docs, t, Want::Resource))
                .unwrap_or_default();
            Finding::new(
                ID,
                Status::Fail,
                if denied {
                    format!("the trust policy of {p} explicitly denies sts:AssumeRole to {caller}")
                } else {
                    format!("the trust policy of {p} does not let {caller} call sts:AssumeRole")
                },
            )
            .with_evidence(ev)
            .with_fix(Some(fix))
        }
        Tri::Unknown => {
            let ev = j
                .first(Tri::Unknown)
                .map(|t| c.evidence(&docs, t, Want::Resource))
                .unwrap_or_default();
            Finding::new(
                ID,
                Status::Unknown,
                format!("whether {caller} may assume {p} {}", unknown_message(&j)),
            )
            .with_evidence(ev)
        }
    }
}
