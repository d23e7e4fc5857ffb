//! Every AWS operation the live doctor can send: as whom, on what, and the
//! IAM action it needs. The gatherer's guard refuses any operation not listed
//! here (and a write without `--probe-writes`), SECURITY.md describes the
//! list, and the least-privilege test proves the policies under `policies/`
//! allow each read and grant no write.

use super::aws::Side;

/// What an operation acts on, named by its role in the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// No resource: IAM authorises the action against `*`.
    Any,
    SourceBucket,
    /// The objects under the source prefix (`arn:aws:s3:::SB/KEY`).
    SourceObjects,
    /// A KMS key of account A (by key ARN).
    SourceKey,
    DestinationBucket,
    DestinationObjects,
    /// A KMS key of account B (by key ARN).
    DestinationKey,
    /// The copying role (`arn:aws:iam::B:role/NAME`).
    CopyRole,
    /// A managed policy attached to the role, or its permissions boundary
    /// (customer managed in B, or AWS managed).
    RolePolicies,
}

/// One operation as the SDK names it, and the IAM action it needs.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// `service:Operation`, as the operation log writes it.
    pub name: &'static str,
    /// The IAM action AWS checks for it.
    pub action: &'static str,
    /// Who sends it, and on what.
    pub calls: &'static [(Side, Target)],
    /// It changes something (only with `--probe-writes`).
    pub write: bool,
    /// Why xacct sends it.
    pub why: &'static str,
}

const fn read(
    name: &'static str,
    action: &'static str,
    calls: &'static [(Side, Target)],
    why: &'static str,
) -> Operation {
    Operation {
        name,
        action,
        calls,
        write: false,
        why,
    }
}

use Side::{A, B, Role};
use Target::*;

/// The complete list. A and B are the identities of `--source-profile` and
/// `--profile` (the read-only policies under `policies/` are theirs); Role is
/// the copying role's session, whose own permissions the probes test.
pub const OPERATIONS: &[Operation] = &[
    read(
        "sts:GetCallerIdentity",
        "sts:GetCallerIdentity",
        &[(A, Any), (B, Any)],
        "learn the account and identity of each profile (IAM allows it to everyone)",
    ),
    read(
        "sts:AssumeRole",
        "sts:AssumeRole",
        &[(B, CopyRole)],
        "act as the copying role for the probes (not with --no-probes)",
    ),
    read(
        "iam:GetRole",
        "iam:GetRole",
        &[(B, CopyRole)],
        "the role, its trust policy, tags and permissions boundary",
    ),
    read(
        "iam:ListRolePolicies",
        "iam:ListRolePolicies",
        &[(B, CopyRole)],
        "the role's inline policies",
    ),
    read(
        "iam:GetRolePolicy",
        "iam:GetRolePolicy",
        &[(B, CopyRole)],
        "each inline policy's document",
    ),
    read(
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedRolePolicies",
        &[(B, CopyRole)],
        "the role's managed policies",
    ),
    read(
        "iam:GetPolicy",
        "iam:GetPolicy",
        &[(B, RolePolicies)],
        "each managed policy's default version (and the boundary's)",
    ),
    read(
        "iam:GetPolicyVersion",
        "iam:GetPolicyVersion",
        &[(B, RolePolicies)],
        "each managed policy's document (and the boundary's)",
    ),
    read(
        "iam:SimulatePrincipalPolicy",
        "iam:SimulatePrincipalPolicy",
        &[(B, CopyRole)],
        "cross-check the role's identity side with AWS's simulator",
    ),
    read(
        "organizations:DescribeOrganization",
        "organizations:DescribeOrganization",
        &[(A, Any), (B, Any)],
        "whether each account is in an organization, and which",
    ),
    read(
        "s3:HeadBucket",
        "s3:ListBucket",
        &[
            (A, SourceBucket),
            (B, DestinationBucket),
            (Role, SourceBucket),
            (Role, DestinationBucket),
        ],
        "each bucket's region; as the role, a probe",
    ),
    read(
        "s3:GetBucketPolicy",
        "s3:GetBucketPolicy",
        &[(A, SourceBucket), (B, DestinationBucket)],
        "the bucket policy",
    ),
    read(
        "s3:GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        &[(A, SourceBucket), (B, DestinationBucket)],
        "the default encryption and its KMS key",
    ),
    read(
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
        &[(A, SourceBucket), (B, DestinationBucket)],
        "Object Ownership",
    ),
    read(
        "s3:GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        &[(A, SourceBucket), (B, DestinationBucket)],
        "the bucket's public access block",
    ),
    read(
        "s3:GetBucketAcl",
        "s3:GetBucketAcl",
        &[(A, SourceBucket), (B, DestinationBucket)],
        "the owner's canonical id (whose objects are whose)",
    ),
    read(
        "s3:GetBucketRequestPayment",
        "s3:GetBucketRequestPayment",
        &[(A, SourceBucket)],
        "whether the source bucket has Requester Pays",
    ),
    read(
        "s3:ListObjectsV2",
        "s3:ListBucket",
        &[(A, SourceBucket), (Role, SourceBucket)],
        "list the source objects (as the role: a probe; as A when the role cannot)",
    ),
    read(
        "s3:HeadObject",
        "s3:GetObject",
        &[(A, SourceObjects), (Role, SourceObjects)],
        "each sampled object's encryption, key, size, storage class and restore",
    ),
    read(
        "s3:GetObject",
        "s3:GetObject",
        &[(Role, SourceObjects)],
        "the decrypt test: bytes 0-0 of one object per key, discarded unread",
    ),
    read(
        "kms:DescribeKey",
        "kms:DescribeKey",
        &[(A, SourceKey), (B, DestinationKey)],
        "the key's ARN, state, spec, usage and manager",
    ),
    read(
        "kms:GetKeyPolicy",
        "kms:GetKeyPolicy",
        &[(A, SourceKey), (B, DestinationKey)],
        "the key policy",
    ),
    read(
        "kms:ListGrants",
        "kms:ListGrants",
        &[(A, SourceKey), (B, DestinationKey)],
        "the key's grants",
    ),
    read(
        "kms:ListAliases",
        "kms:ListAliases",
        &[(A, Any), (B, Any)],
        "the key's aliases (to name it)",
    ),
    read(
        "kms:Decrypt",
        "kms:Decrypt",
        &[(Role, SourceKey)],
        "a DryRun probe: would the role be allowed to decrypt (nothing is decrypted)",
    ),
    read(
        "kms:GenerateDataKey",
        "kms:GenerateDataKey",
        &[(Role, DestinationKey)],
        "a DryRun probe: would the role be allowed to encrypt (no key is made)",
    ),
    Operation {
        name: "s3:CreateMultipartUpload",
        action: "s3:PutObject",
        calls: &[(Role, DestinationObjects)],
        write: true,
        why: "--probe-writes only: start an upload with the copy's headers (no data), aborted at once",
    },
    Operation {
        name: "s3:AbortMultipartUpload",
        action: "s3:AbortMultipartUpload",
        calls: &[(Role, DestinationObjects)],
        write: true,
        why: "--probe-writes only: remove the upload the write probe started",
    },
];

/// The entry for `service:Operation` (case-insensitive), if xacct may send it.
pub fn lookup(name: &str) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.name.eq_ignore_ascii_case(name))
}

/// Whether `side` may send `name`; `writes`: `--probe-writes` was given.
/// `Err` says why not.
pub fn allowed(name: &str, side: Side, writes: bool) -> Result<(), String> {
    let Some(op) = lookup(name) else {
        return Err(format!(
            "{name} is not an operation xacct sends (src/gather/operations.rs)"
        ));
    };
    if !op.calls.iter().any(|(s, _)| *s == side) {
        return Err(format!("{name} is not sent as {}", side.label()));
    }
    if op.write && !writes {
        return Err(format!(
            "{name} changes something: only with --probe-writes"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_need_probe_writes_and_unknown_operations_are_refused() {
        assert!(allowed("s3:GetBucketPolicy", Side::A, false).is_ok());
        assert!(allowed("S3:GETBUCKETPOLICY", Side::B, false).is_ok());
        assert!(allowed("s3:GetBucketPolicy", Side::Role, false).is_err());
        assert!(allowed("s3:CreateMultipartUpload", Side::Role, false).is_err());
        assert!(allowed("s3:CreateMultipartUpload", Side::Role, true).is_ok());
        assert!(allowed("s3:CreateMultipartUpload", Side::B, true).is_err());
        assert!(allowed("s3:PutBucketPolicy", Side::B, true).is_err());
        assert!(allowed("s3:DeleteObject", Side::Role, true).is_err());
    }

    #[test]
    fn names_are_unique_and_actions_are_known() {
        for (i, o) in OPERATIONS.iter().enumerate() {
            assert!(
                OPERATIONS[..i]
                    .iter()
                    .all(|p| !p.name.eq_ignore_ascii_case(o.name)),
                "{} twice",
                o.name
            );
            assert!(
                crate::policy::service::action(o.action).is_some(),
                "{}: unknown action {}",
                o.name,
                o.action
            );
            assert!(!o.calls.is_empty(), "{}", o.name);
        }
    }
}
