//! XA002 source-bucket-policy-allows-role: SB's bucket policy lets P
//! `s3:ListBucket` the bucket and `s3:GetObject` the objects, and denies neither.

use serde_json::json;

use crate::policy::eval::PolicySet;
use crate::snapshot::model::Field;

use super::ctx::{
    Ctx, Docs, Found, LinkWords, Trial, Want, bucket_policy_fix, generalize, labeled, link_finding,
    resources_by_action,
};
use super::{Finding, Status};

const ID: &str = "XA002";

pub fn run(c: &Ctx<'_>) -> Finding {
    let src = &c.s.copy.source;
    let p = &c.plan.role_arn;
    let bucket = match c.bucket(&src.bucket) {
        Found::Yes(b) => b,
        Found::Missing(u) => {
            return Finding::new(
                ID,
                Status::Fail,
                format!(
                    "the source bucket {} does not exist ({})",
                    src.bucket,
                    u.describe()
                ),
            );
        }
        Found::Unknown(why) => {
            return Finding::new(
                ID,
                Status::Unknown,
                format!("cannot read the bucket policy of {}: {why}", src.bucket),
            );
        }
    };
    let reqs = c.plan.source_requests(c.s);
    let statements = |fails: &[&Trial<'_>]| -> Vec<serde_json::Value> {
        resources_by_action(fails)
            .into_iter()
            .map(|(action, res)| {
                let res = generalize(&res);
                json!({
                    "Sid": if action == "s3:ListBucket" { "XacctCopyRoleList" } else { "XacctCopyRoleRead" },
                    "Effect": "Allow",
                    "Principal": {"AWS": p},
                    "Action": action,
                    "Resource": if res.len() == 1 { json!(res[0]) } else { json!(res) },
                })
            })
            .collect()
    };
    let a = c.plan.a.clone();
    let all_statements = {
        vec![
            json!({"Sid": "XacctCopyRoleList", "Effect": "Allow", "Principal": {"AWS": p}, "Action": "s3:ListBucket", "Resource": src.bucket_arn()}),
            json!({"Sid": "XacctCopyRoleRead", "Effect": "Allow", "Principal": {"AWS": p}, "Action": "s3:GetObject", "Resource": format!("{}/{}*", src.bucket_arn(), src.prefix)}),
        ]
    };
    let doc = match &bucket.policy {
        Field::Value(Some(d)) => d,
        Field::Value(None) => {
            if c.plan.same_account() {
                return Finding::new(
                    ID,
                    Status::Pass,
                    format!(
                        "{} has no bucket policy; the role is in the bucket's own account, so its identity policies decide (XA006)",
                        src.bucket
                    ),
                );
            }
            return Finding::new(
                ID,
                Status::Fail,
                format!(
                    "{} has no bucket policy: a cross-account reader needs one that allows {p}",
                    src.bucket
                ),
            )
            .with_fix(Some(bucket_policy_fix(
                &src.bucket,
                a,
                all_statements,
                format!(
                    "create a bucket policy on {} that lets the role list and read",
                    src.bucket
                ),
            )));
        }
        Field::Unreadable(u) => {
            return Finding::new(ID, Status::Unknown, format!("the bucket policy of {} is unreadable: {}", src.bucket, u.describe()))
                .detail("from account B alone, GetBucketPolicy on A's bucket is refused (405): ask the owner for the policy, or run with --source-profile");
        }
        Field::NotRead => {
            return Finding::new(ID, Status::Unknown, format!("the bucket policy of {} was not read", src.bucket))
                .detail("give xacct credentials for account A (--source-profile), or paste A's policy into the snapshot");
        }
    };
    let mut docs = Docs::default();
    docs.add(doc);
    let j = c.judge(&reqs, &docs, Want::Resource, |_| PolicySet {
        resource: Some(labeled(doc)),
        ..Default::default()
    });
    if j.tri.is_false() && j.invalid.is_empty() && c.plan.same_account() {
        // same account: a missing allow here is fine if identity policies allow
        let denied = j.trials.iter().any(|t| Want::Resource.denied(&t.decision));
        if !denied {
            return Finding::new(
                ID,
                Status::Pass,
                format!(
                    "the bucket policy of {} does not deny the role (same account: identity policies decide)",
                    src.bucket
                ),
            );
        }
    }
    let a2 = c.plan.a.clone();
    let bucket_name = src.bucket.clone();
    let fix = move |fails: &[&Trial<'_>]| {
        Some(bucket_policy_fix(
            &bucket_name,
            a2.clone(),
            statements(fails),
            format!("add to the bucket policy of {bucket_name} in account A"),
        ))
    };
    let f = link_finding(
        c,
        &j,
        &docs,
        Want::Resource,
        LinkWords {
            id: ID,
            subject: format!("the bucket policy of {}", src.bucket),
            pass: format!(
                "the bucket policy of {} lets {p} list the bucket and read its objects",
                src.bucket
            ),
            grant_fix: &fix,
            corrected: Some(json!(all_statements)),
            corrected_command: Some(super::ctx::bucket_policy_command(&src.bucket)),
        },
    );
    if f.status != Status::Pass || c.plan.same_account() {
        return f;
    }
    // Block Public Access: with RestrictPublicBuckets, a bucket whose policy is
    // public admits no other account at all (S3 User Guide, "The meaning of public").
    let restricts = matches!(
        &bucket.public_access_block,
        Field::Value(Some(pab)) if pab.restrict_public_buckets == Some(true)
    );
    if restricts && let Some(st) = crate::policy::public::public_statement(&doc.policy) {
        let mut f = Finding::new(
            ID,
            Status::Fail,
            format!(
                "{} blocks public access (RestrictPublicBuckets) and its policy is public (statement {}): S3 refuses every other account, {p} included",
                src.bucket, st.pointer
            ),
        );
        f.evidence = vec![super::ctx::statement_evidence(
            doc,
            &st.pointer,
            "grants to a principal that is not fixed (\"*\" without a fixed-value condition): the policy is public".into(),
        )];
        f.fix = Some(super::Fix {
            summary: "name the principals with fixed values (the role ARN, an account id, or \"*\" with a fixed aws:PrincipalOrgID/aws:PrincipalAccount/aws:SourceVpce condition), so the policy is no longer public".into(),
            account: c.plan.a.clone(),
            document: doc.title.clone(),
            statement: Some(json!(all_statements)),
            command: Some(super::ctx::bucket_policy_command(&src.bucket)),
        });
        return f;
    }
    f
}
