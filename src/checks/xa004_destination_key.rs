//! XA004 destination-key-allows-role: DK's key policy lets P
//! `kms:GenerateDataKey` (and `kms:Decrypt` for multipart) directly, or
//! delegates to B and P's identity policies allow it; nothing denies.

use serde_json::json;

use crate::policy::Tri;
use crate::policy::eval::PolicySet;
use crate::snapshot::model::Field;

use super::ctx::{
    Ctx, Docs, LinkWords, Trial, Want, identity_statements, key_policy_fix, labeled, link_finding,
    role_policy_fix,
};
use super::plan::DestKey;
use super::xa003_source_key_policy::grants_of;
use super::{Finding, Status};

const ID: &str = "XA004";

pub fn run(c: &Ctx<'_>) -> Finding {
    let p = &c.plan.role_arn;
    if c.destination_missing() && !matches!(c.plan.dest_key, DestKey::Key(_)) {
        return Finding::new(
            ID,
            Status::Skip,
            format!(
                "the destination bucket {} does not exist (XA005)",
                c.s.copy.destination.bucket
            ),
        );
    }
    let key_arn = match &c.plan.dest_key {
        DestKey::Key(k) => k.clone(),
        DestKey::AwsManaged => {
            return Finding::new(
                ID,
                Status::Skip,
                "the destination is encrypted with the AWS managed key aws/s3, not a key of B's (XA010)",
            );
        }
        DestKey::NoKms(why) => {
            return Finding::new(
                ID,
                Status::Skip,
                format!("the destination uses no KMS key: {why} (XA010)"),
            );
        }
        DestKey::Unresolved(id) => {
            return Finding::new(
                ID,
                Status::Unknown,
                format!(
                    "the destination key `{id}` is not a key ARN and matches no key read in account {}",
                    c.plan.b
                ),
            );
        }
        DestKey::Unknown(why) => {
            return Finding::new(
                ID,
                Status::Unknown,
                format!("cannot tell which key encrypts the destination: {why}"),
            );
        }
    };
    let reqs = c.plan.encrypt_requests(c.s);
    let (key, doc) = match c.key_and_policy(ID, "destination", &key_arn) {
        Ok(kd) => kd,
        Err(f) => return *f,
    };
    let grants = grants_of(key);
    let identity = c.identity_docs();
    // First the key policy alone: does it name the role, or delegate to B?
    let mut kp_docs = Docs::default();
    kp_docs.add(doc);
    let kp_only = c.judge(&reqs, &kp_docs, Want::Full, |_| PolicySet {
        resource: Some(labeled(doc)),
        grants: grants.clone(),
        ..Default::default()
    });
    let direct = Tri::all(
        kp_only
            .trials
            .iter()
            .map(|t| t.decision.gates.resource_direct.or(t.decision.gates.grant)),
    );
    let delegates = Tri::any(
        kp_only
            .trials
            .iter()
            .map(|t| t.decision.gates.resource_delegates),
    );
    let mut docs = Docs::default();
    docs.add(doc);
    if !direct.is_true() && delegates.maybe() {
        // the key policy hands the decision to B's IAM: the role's policies count
        docs.extend(identity);
    } else {
        // only the role's explicit denies could still matter
        docs.docs.extend(identity.docs);
    }
    if let Field::Unreadable(u) = &key.grants {
        docs.missing
            .push(format!("grants of {key_arn}: {}", u.describe()));
    }
    let id_labels = docs.labeled();
    let j = c.judge(&reqs, &docs, Want::Full, |_| PolicySet {
        identity: id_labels
            .iter()
            .filter(|l| l.label != doc.pointer)
            .copied()
            .collect(),
        resource: Some(labeled(doc)),
        grants: grants.clone(),
        ..Default::default()
    });
    let key_arn2 = key_arn.clone();
    let plan = c.plan;
    let fix = move |fails: &[&Trial<'_>]| {
        let f = fails.first()?;
        let g = &f.decision.gates;
        if g.resource_delegates.is_false() && g.resource_direct.is_false() {
            let actions: Vec<String> = super::ctx::resources_by_action(fails).into_keys().collect();
            Some(key_policy_fix(
                &key_arn2,
                vec![json!({
                    "Sid": "XacctCopyRoleEncrypt",
                    "Effect": "Allow",
                    "Principal": {"AWS": plan.role_arn},
                    "Action": actions,
                    "Resource": "*"
                })],
                "the destination key policy neither names the role nor delegates to account B: add this statement (or the root delegation statement \"Principal\": {\"AWS\": \"arn:aws:iam::B:root\"}, \"Action\": \"kms:*\")".into(),
            ))
        } else {
            Some(role_policy_fix(
                plan,
                identity_statements(fails, "XacctDestinationKey"),
                "the key policy delegates to account B, but no policy of the role allows it: add this to the role".into(),
            ))
        }
    };
    let mut f = link_finding(
        c,
        &j,
        &docs,
        Want::Full,
        LinkWords {
            id: ID,
            subject: if !direct.is_true() && delegates.maybe() {
                format!(
                    "the role's identity policies (the key policy of {key_arn} delegates to account {})",
                    c.plan.b
                )
            } else {
                format!("the key policy of {key_arn}")
            },
            pass: if c.plan.multipart() {
                format!("{p} may kms:GenerateDataKey and kms:Decrypt (multipart) with {key_arn}")
            } else {
                format!("{p} may kms:GenerateDataKey with {key_arn}")
            },
            grant_fix: &fix,
            corrected: Some(json!({
                "Sid": "XacctCopyRoleEncrypt",
                "Effect": "Allow",
                "Principal": {"AWS": c.plan.role_arn},
                "Action": if c.plan.multipart() { json!(["kms:GenerateDataKey", "kms:Decrypt"]) } else { json!("kms:GenerateDataKey") },
                "Resource": "*"
            })),
            corrected_command: Some(super::ctx::key_policy_command(&key_arn)),
        },
    );
    if f.status == Status::Fail
        && delegates.is_false()
        && direct.is_false()
        && !f.message.contains("explicitly")
    {
        f.message = format!(
            "the key policy of {key_arn} neither allows {p} nor delegates to account {}: {}",
            c.plan.b, f.message
        );
    }
    f
}
