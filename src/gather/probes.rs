//! Probes made as the copying role: the decrypt test (a one-byte ranged
//! GetObject whose body is dropped unread), KMS DryRun calls, HeadBucket on
//! the destination, and with `--probe-writes` a multipart upload that is
//! aborted at once. Each becomes a `probes` entry.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, DryRunModifierType};

use super::aws::Account;
use super::fail::Failure;
use crate::snapshot::model::{CopySpec, Outcome, Probe};

/// The `detail` of a KMS DryRun probe: XA014 reads "DryRun" as "a direct
/// call", whose failure only warns.
pub const DRY_RUN_DETAIL: &str = "DryRun (direct call, no kms:ViaService)";

fn probe(who: &Account, call: &str, target: String, detail: &str, outcome: Outcome) -> Probe {
    Probe {
        as_principal: Some(who.arn.clone()),
        call: call.into(),
        target,
        detail: Some(detail.into()),
        outcome,
    }
}

/// GetObject `Range: bytes=0-0`: S3 decrypts the object with its KMS key as
/// the role. The byte is never read: the body is dropped.
pub async fn decrypt_test(
    role: &Account,
    bucket: &str,
    region: Option<&str>,
    key: &str,
    payer: bool,
) -> Probe {
    let s3 = role.s3(region);
    let mut req = s3.get_object().bucket(bucket).key(key).range("bytes=0-0");
    if payer {
        req = req.request_payer(aws_sdk_s3::types::RequestPayer::Requester);
    }
    let res = req.send().await;
    let outcome = match res {
        Ok(out) => {
            drop(out.body);
            Outcome::Ok
        }
        Err(e) => Failure::from_sdk(&e).not_found_as("NoSuchKey").outcome(),
    };
    probe(
        role,
        "s3:GetObject",
        format!("arn:aws:s3:::{bucket}/{key}"),
        "Range: bytes=0-0 (decrypt test; the byte is discarded unread)",
        outcome,
    )
}

fn dry_run_outcome(f: Failure) -> Outcome {
    if f.code.contains("DryRunOperation") {
        Outcome::Ok
    } else {
        f.outcome()
    }
}

fn key_region(arn: &str) -> Option<&str> {
    super::kms::arn_parts(arn).map(|(r, _)| r)
}

/// kms:Decrypt DryRun with IGNORE_CIPHERTEXT on a source key.
pub async fn decrypt_dry_run(role: &Account, key_arn: &str, context_arn: &str) -> Probe {
    let res = role
        .kms(key_region(key_arn))
        .decrypt()
        .key_id(key_arn)
        .ciphertext_blob(Blob::new(vec![0u8; 64]))
        .encryption_context("aws:s3:arn", context_arn)
        .dry_run(true)
        .dry_run_modifiers(DryRunModifierType::IgnoreCiphertext)
        .send()
        .await;
    // a KMS that ignores DryRun answers for real: the plaintext is dropped here
    let res = res.map(drop).map_err(|e| Failure::from_sdk(&e));
    dry_run_probe(role, "kms:Decrypt", key_arn, res)
}

/// A DryRun probe's record: allowed (`DryRunOperation`, or a KMS that
/// answered for real) or the refusal.
fn dry_run_probe(role: &Account, call: &str, key: &str, res: Result<(), Failure>) -> Probe {
    let outcome = match res {
        Ok(()) => Outcome::Ok,
        Err(f) => dry_run_outcome(f),
    };
    probe(role, call, key.to_string(), DRY_RUN_DETAIL, outcome)
}

/// kms:GenerateDataKey DryRun on the destination key.
pub async fn generate_dry_run(role: &Account, key: &str, context_arn: &str) -> Probe {
    let res = role
        .kms(key_region(key))
        .generate_data_key()
        .key_id(key)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("aws:s3:arn", context_arn)
        .dry_run(true)
        .send()
        .await;
    let res = res.map(drop).map_err(|e| Failure::from_sdk(&e));
    dry_run_probe(role, "kms:GenerateDataKey", key, res)
}

/// `--probe-writes`: CreateMultipartUpload with the copy's headers (no data
/// is uploaded), then AbortMultipartUpload, so nothing is left behind.
pub async fn write_probe(role: &Account, copy: &CopySpec, region: Option<&str>) -> Vec<Probe> {
    let bucket = &copy.destination.bucket;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let prefix = &copy.destination.prefix;
    let sep = if prefix.is_empty() || prefix.ends_with('/') {
        ""
    } else {
        "/"
    };
    let key = format!(
        "{prefix}{sep}xacct-write-probe-{}-{stamp}",
        std::process::id()
    );
    let target = format!("arn:aws:s3:::{bucket}/{key}");
    let s3 = role.s3(region);
    let mut req = s3.create_multipart_upload().bucket(bucket).key(&key);
    if let Some(v) = copy.header("x-amz-server-side-encryption") {
        req = req.server_side_encryption(v.into());
    }
    if let Some(v) = copy.header("x-amz-server-side-encryption-aws-kms-key-id") {
        req = req.ssekms_key_id(v);
    }
    if let Some(v) = copy.header("x-amz-server-side-encryption-bucket-key-enabled") {
        req = req.bucket_key_enabled(v.eq_ignore_ascii_case("true"));
    }
    if let Some(v) = copy.header("x-amz-acl") {
        req = req.acl(v.into());
    }
    if let Some(v) = copy.header("x-amz-request-payer") {
        req = req.request_payer(v.into());
    }
    let mut out = Vec::new();
    // sent once: an upload the service started before the answer was lost
    // would be retried into a second one that nobody aborts (a failure here
    // is a fault XA014 reports as unknown; AbortMultipartUpload is retried)
    let once = aws_sdk_s3::config::Builder::default()
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled());
    match req.customize().config_override(once).send().await {
        Ok(created) => {
            out.push(probe(
                role,
                "s3:PutObject",
                target.clone(),
                "CreateMultipartUpload (write probe, aborted right after)",
                Outcome::Ok,
            ));
            let outcome = match created.upload_id() {
                Some(id) => match s3
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(id)
                    .send()
                    .await
                {
                    Ok(_) => Outcome::Ok,
                    Err(e) => Failure::from_sdk(&e).outcome(),
                },
                None => Outcome::Error {
                    error: "NoUploadId".into(),
                    message: "CreateMultipartUpload returned no upload id".into(),
                },
            };
            out.push(probe(
                role,
                "s3:AbortMultipartUpload",
                target,
                "AbortMultipartUpload (removes the write probe)",
                outcome,
            ));
        }
        Err(e) => out.push(probe(
            role,
            "s3:PutObject",
            target,
            "CreateMultipartUpload (write probe)",
            Failure::from_sdk(&e).outcome(),
        )),
    }
    out
}
