//! XA010 destination-encryption: objects written into DB will be SSE-KMS under a
//! customer managed key of B (DB's default encryption and the copy's headers
//! decide), and that is the key the user expects.

use super::ctx::{Ctx, Found};
use super::plan::DestKey;
use super::{Finding, Fix, Status};

const ID: &str = "XA010";

pub fn run(c: &Ctx<'_>) -> Finding {
    let dst = &c.s.copy.destination;
    if c.destination_missing() {
        return Finding::new(
            ID,
            Status::Skip,
            format!(
                "the destination bucket {} does not exist (XA005)",
                dst.bucket
            ),
        );
    }
    let b = &c.plan.b;
    let put_enc = |key: &str| Fix {
        summary: format!(
            "make SSE-KMS with a key of account {b} the default encryption of {} (or send --sse aws:kms --sse-kms-key-id with the copy)",
            dst.bucket
        ),
        account: Some(b.clone()),
        document: format!("default encryption of {}", dst.bucket),
        statement: None,
        command: Some(format!(
            "aws s3api put-bucket-encryption --bucket {} --server-side-encryption-configuration '{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"{key}\"}},\"BucketKeyEnabled\":true}}]}}'",
            dst.bucket
        )),
    };
    let wanted = c.s.copy.destination_key.clone();
    let placeholder = format!(
        "arn:aws:kms:{}:{b}:key/KEY-ID",
        c.plan.dst_region.as_deref().unwrap_or("REGION")
    );
    // what S3 would use, ignoring copy.destination_key (which is the expectation)
    let actual = super::plan::actual_dest_key(c.s);
    match &actual {
        DestKey::NoKms(why) => Finding::new(ID, Status::Fail, format!("objects written into {dst} would not be SSE-KMS: {why}"))
            .with_fix(Some(put_enc(wanted.as_deref().unwrap_or(&placeholder)))),
        DestKey::AwsManaged => Finding::new(
            ID,
            Status::Fail,
            format!("objects written into {dst} would be encrypted with the AWS managed key aws/s3 of account {b}, not a customer managed key"),
        )
        .with_fix(Some(put_enc(wanted.as_deref().unwrap_or(&placeholder)))),
        DestKey::Unknown(why) => {
            if let Some(w) = &wanted {
                return Finding::new(ID, Status::Unknown, format!("cannot tell whether {dst} would use {w}: {why}"));
            }
            Finding::new(ID, Status::Unknown, format!("cannot tell how objects written into {dst} are encrypted: {why}"))
        }
        DestKey::Unresolved(id) => Finding::new(
            ID,
            Status::Unknown,
            format!("the destination key is named `{id}`, not by ARN, and matches no key read in account {b}: S3 resolves aliases in the requester's account"),
        ),
        DestKey::Key(k) => {
            if let Some(w) = &wanted
                && w != k
            {
                return Finding::new(ID, Status::Fail, format!("copy.destination_key is {w}, but objects written into {dst} would be encrypted with {k}"))
                    .with_fix(Some(put_enc(w)));
            }
            let owner = crate::arn::account(k).unwrap_or("");
            if owner != b {
                return Finding::new(ID, Status::Fail, format!("objects written into {dst} would be encrypted with {k}, a key of account {owner}, not of B ({b})"))
                    .with_fix(Some(put_enc(&placeholder)));
            }
            match c.key(k) {
                Found::Yes(key) => match key.is_aws_managed() {
                    Some(true) => Finding::new(ID, Status::Fail, format!("{k} is an AWS managed key, not a customer managed key of B"))
                        .with_fix(Some(put_enc(&placeholder))),
                    Some(false) => Finding::new(ID, Status::Pass, format!("objects written into {dst} are SSE-KMS under {k}, a customer managed key of B")),
                    None => Finding::new(ID, Status::Unknown, format!("whether {k} is customer managed was not read")),
                },
                // existence and health are XA009's
                Found::Missing(_) => Finding::new(ID, Status::Pass, format!("objects written into {dst} are SSE-KMS under {k} (its health: XA009)")),
                Found::Unknown(why) => Finding::new(ID, Status::Unknown, format!("cannot tell whether {k} is a customer managed key: {why}")),
            }
        }
    }
}
