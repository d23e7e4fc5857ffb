//! XA011 object-ownership: the source objects are owned by A (bucket-policy
//! allows do not reach objects another account owns), and the copy does not
//! send an ACL that a BucketOwnerEnforced destination refuses.

use crate::snapshot::model::Field;

use super::ctx::{Ctx, Found};
use super::{Finding, Fix, Status};

const ID: &str = "XA011";

pub fn run(c: &Ctx<'_>) -> Finding {
    let src = &c.s.copy.source;
    let dst = &c.s.copy.destination;
    let mut fails = Vec::new();
    let mut unknowns = Vec::new();

    // Destination: an ACL on a bucket with ACLs disabled.
    let acl = c.s.copy.header("x-amz-acl");
    let grants: Vec<&String> =
        c.s.copy
            .request
            .keys()
            .filter(|h| h.starts_with("x-amz-grant-"))
            .collect();
    let sends_acl = acl.is_some_and(|a| a != "bucket-owner-full-control") || !grants.is_empty();
    if sends_acl {
        match c.bucket(&dst.bucket) {
            Found::Yes(b) => match &b.ownership {
                Field::Value(Some(o)) if o == "BucketOwnerEnforced" => fails.push(format!(
                    "{} has Object Ownership BucketOwnerEnforced (ACLs disabled), and the copy sends {}: S3 answers AccessControlListNotSupported",
                    dst.bucket,
                    acl.map(|a| format!("x-amz-acl: {a}")).unwrap_or_else(|| "grant headers".into())
                )),
                Field::Value(_) => {}
                Field::Unreadable(u) => unknowns.push(format!("the ownership controls of {}: {}", dst.bucket, u.describe())),
                Field::NotRead => unknowns.push(format!("the ownership controls of {} were not read", dst.bucket)),
            },
            Found::Missing(_) => {}
            Found::Unknown(why) => unknowns.push(why),
        }
    }

    // Source: objects owned by another account.
    let a = c.plan.a.clone();
    let bucket = match c.bucket(&src.bucket) {
        Found::Yes(b) => Some(b),
        Found::Missing(_) => None,
        Found::Unknown(why) => {
            unknowns.push(why);
            None
        }
    };
    if let Some(b) = bucket {
        let enforced = matches!(&b.ownership, Field::Value(Some(o)) if o == "BucketOwnerEnforced");
        let sampled: Vec<_> = c.plan.objects.iter().filter(|o| !o.stand_in).collect();
        let mut owner_unknown = Vec::new();
        for o in &sampled {
            match (&o.owner, &a) {
                (Some(owner), Some(a)) if owner != a && !enforced => {
                    fails.push(format!("{} is owned by account {owner}, not by the bucket owner {a}: the bucket policy's allows do not apply to it", o.key));
                }
                (Some(_), Some(_)) => {}
                _ if enforced => {}
                _ => owner_unknown.push(o.key.clone()),
            }
        }
        if let Some(cs) = &b.census
            && cs.foreign_owned > 0
            && !enforced
        {
            let ex = cs
                .examples
                .get("foreign_owned")
                .and_then(|v| v.first())
                .map(|k| format!(", e.g. {k}"))
                .unwrap_or_default();
            fails.push(format!(
                "the census counts {} objects owned by another account than {}{ex}",
                cs.foreign_owned, src.bucket
            ));
        }
        // the bucket was read and holds no object under the prefix: nothing to own
        let nothing_sampled = sampled.is_empty() && b.census.is_none() && !c.plan.objects_known;
        if (!owner_unknown.is_empty() || nothing_sampled) && !enforced && fails.is_empty() {
            match &b.ownership {
                Field::Unreadable(u) => unknowns.push(format!(
                    "object owners unknown and the ownership controls of {}: {}",
                    src.bucket,
                    u.describe()
                )),
                _ if !owner_unknown.is_empty() => unknowns.push(format!(
                    "the owner of {} was not read",
                    owner_unknown.join(", ")
                )),
                _ => unknowns.push(format!(
                    "no object of {} was sampled and its ownership controls were not read",
                    src.bucket
                )),
            }
        }
    }
    if let Some(first) = fails.first() {
        let mut f = Finding::new(ID, Status::Fail, first.clone());
        f.details.extend(fails.iter().skip(1).cloned());
        f.fix = Some(
            if sends_acl && first.contains("AccessControlListNotSupported") {
                Fix {
                    summary: "stop sending the ACL (or send only bucket-owner-full-control)".into(),
                    account: Some(c.plan.b.clone()),
                    document: "the copy command".into(),
                    statement: None,
                    command: Some(format!(
                        "aws s3 cp {src} {dst} --recursive   # without --acl / --grants"
                    )),
                }
            } else {
                Fix {
                    summary: format!(
                        "make account {} own every object: set BucketOwnerEnforced after moving any ACL grants, or have the writer re-copy them; or grant the role READ in the objects' ACLs",
                        a.as_deref().unwrap_or("A")
                    ),
                    account: a.clone(),
                    document: format!("ownership controls of {}", src.bucket),
                    statement: None,
                    command: Some(format!(
                        "aws s3api put-bucket-ownership-controls --bucket {} --ownership-controls 'Rules=[{{ObjectOwnership=BucketOwnerEnforced}}]'",
                        src.bucket
                    )),
                }
            },
        );
        return f;
    }
    if let Some(u) = unknowns.first() {
        return Finding::new(ID, Status::Unknown, u.clone());
    }
    Finding::new(
        ID,
        Status::Pass,
        format!(
            "the source objects are owned by {}{}",
            a.as_deref().unwrap_or("the bucket owner"),
            if acl.is_some() {
                "; the copy's ACL is accepted by the destination"
            } else {
                ""
            }
        ),
    )
}
