//! XA016 requester-pays: when SB has Requester Pays, the copy sends
//! `x-amz-request-payer: requester`.

use crate::snapshot::model::Field;

use super::ctx::{Ctx, Found};
use super::{Finding, Fix, Status};

const ID: &str = "XA016";

pub fn run(c: &Ctx<'_>) -> Finding {
    let src = &c.s.copy.source;
    let sends =
        c.s.copy
            .header("x-amz-request-payer")
            .is_some_and(|v| v.eq_ignore_ascii_case("requester"));
    let fix = || Fix {
        summary: "send the requester-pays header: account B pays for the requests and transfer"
            .into(),
        account: Some(c.plan.b.clone()),
        document: "the copy command".into(),
        statement: None,
        command: Some(format!(
            "aws s3 cp {src} {} --recursive --request-payer requester",
            c.s.copy.destination
        )),
    };
    let bucket = match c.bucket(&src.bucket) {
        Found::Yes(b) => b,
        Found::Missing(u) => {
            return Finding::new(
                ID,
                Status::Skip,
                format!("the source bucket does not exist ({})", u.describe()),
            );
        }
        Found::Unknown(why) => {
            if sends {
                return Finding::new(
                    ID,
                    Status::Pass,
                    "the copy sends x-amz-request-payer: requester",
                );
            }
            return Finding::new(
                ID,
                Status::Unknown,
                format!(
                    "cannot tell whether {} has Requester Pays: {why}",
                    src.bucket
                ),
            );
        }
    };
    match &bucket.requester_pays {
        Field::Value(true) if sends => Finding::new(ID, Status::Pass, format!("{} has Requester Pays and the copy sends x-amz-request-payer: requester", src.bucket)),
        Field::Value(true) => Finding::new(
            ID,
            Status::Fail,
            format!("{} has Requester Pays, and the copy does not send x-amz-request-payer: requester: S3 answers 403 Access Denied", src.bucket),
        )
        .with_fix(Some(fix())),
        Field::Value(false) => Finding::new(ID, Status::Pass, format!("{} does not have Requester Pays", src.bucket)),
        _ if sends => Finding::new(ID, Status::Pass, "the copy sends x-amz-request-payer: requester"),
        other => {
            // a successful read of the source as the role, without the header, rules it out
            let proof = c.s.probes.iter().find(|p| {
                p.succeeded()
                    && p.target.contains(&src.bucket)
                    && matches!(p.call.to_ascii_lowercase().as_str(), "s3:listobjectsv2" | "s3:headobject" | "s3:getobject")
            });
            if let Some(p) = proof {
                return Finding::new(
                    ID,
                    Status::Pass,
                    format!("{} on {} succeeded without x-amz-request-payer, so {} does not have Requester Pays", p.call, p.target, src.bucket),
                );
            }
            let why = match other {
                Field::Unreadable(u) => u.describe(),
                _ => "the setting was not read (only the bucket owner may read it)".into(),
            };
            Finding::new(ID, Status::Unknown, format!("cannot tell whether {} has Requester Pays: {why}", src.bucket))
                .detail("sending --request-payer requester is harmless when it is off")
        }
    }
}
