//! The `xacct-snapshot/1` model (spec: snapshot.md): the planned copy and what
//! was read from both accounts. Every readable item may instead be an
//! unreadable marker; absence means "not read".

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::policy::{CtxValue, Policy};

/// A read that was tried and failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub call: String,
    pub error: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Unreadable {
    /// Errors that say the thing does not exist: they record absence.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.error.as_str(),
            "NoSuchEntity"
                | "NoSuchBucket"
                | "NotFoundException"
                | "NoSuchKey"
                | "NotFound"
                | "404"
        )
    }
    pub fn describe(&self) -> String {
        if self.message.is_empty() {
            format!("{} failed: {}", self.call, self.error)
        } else {
            format!("{} failed: {}: {}", self.call, self.error, self.message)
        }
    }
}

/// A value that may not have been read, or whose read failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    NotRead,
    Unreadable(Unreadable),
    Value(T),
}

impl<T> Field<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_not_read(&self) -> bool {
        matches!(self, Field::NotRead)
    }
    pub fn unreadable(&self) -> Option<&Unreadable> {
        match self {
            Field::Unreadable(u) => Some(u),
            _ => None,
        }
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::NotRead => s.serialize_none(),
            Field::Value(v) => v.serialize(s),
            Field::Unreadable(u) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("unreadable", u)?;
                m.end()
            }
        }
    }
}

/// A policy document: the parsed policy, and how it was written in the snapshot
/// (the exact string AWS returned, or a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDoc {
    pub policy: Policy,
    pub raw: RawPolicy,
    /// Where the document sits in the snapshot (JSON pointer).
    pub pointer: String,
    /// A human name: "bucket policy of alice-data".
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RawPolicy {
    /// The exact string AWS returned.
    Text(String),
    /// A JSON object in the snapshot: its text is the policy's span of its
    /// source (not copied: a 10 MiB document is held once).
    Json,
}

impl PolicyDoc {
    /// The document's text as it stands in the snapshot: the string AWS
    /// returned, or the JSON object's own text.
    pub fn text(&self) -> &str {
        match &self.raw {
            RawPolicy::Text(t) => t,
            RawPolicy::Json => self
                .policy
                .source
                .text
                .get(self.policy.span.start..self.policy.span.end)
                .unwrap_or(""),
        }
    }
}

impl Serialize for PolicyDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.raw {
            RawPolicy::Text(t) => s.serialize_str(t),
            RawPolicy::Json => serde_json::from_str::<serde_json::Value>(self.text())
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    #[default]
    Cli,
    GetPut,
}

/// `s3://bucket[/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    pub fn parse(s: &str) -> Option<S3Location> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && bucket.as_bytes()[0].is_ascii_alphanumeric();
        valid.then(|| S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }
    pub fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl Serialize for S3Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

fn ctx_ser<S: Serializer>(ctx: &[(String, CtxValue)], s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(ctx.len()))?;
    for (k, v) in ctx {
        match v {
            CtxValue::Single(x) => m.serialize_entry(k, x)?,
            CtxValue::Multi(x) => m.serialize_entry(k, x)?,
        }
    }
    m.end()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopySpec {
    pub source: S3Location,
    pub destination: S3Location,
    pub principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_key: Option<String>,
    pub method: Method,
    /// Extra request headers; names lower-cased.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub request: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<PolicyDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "ctx_ser")]
    pub context: Vec<(String, CtxValue)>,
}

impl CopySpec {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub scp: Field<Vec<Vec<Field<PolicyDoc>>>>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub rcp: Field<Vec<Vec<Field<PolicyDoc>>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Encryption {
    pub algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_key: Option<bool>,
}

impl Encryption {
    pub fn is_kms(&self) -> bool {
        self.algorithm == "aws:kms" || self.algorithm == "aws:kms:dsse"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicAccessBlock {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_public_acls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_public_acls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_public_policy: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restrict_public_buckets: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Census {
    pub objects: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_encryption: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_storage_class: BTreeMap<String, u64>,
    pub foreign_owned: u64,
    /// Optional: example object keys per finding kind (e.g. `"GLACIER": [..]`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub examples: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Object {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// `null` never restored, `ongoing`, `completed`. Outer None: not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<Option<String>>,
    /// Intelligent-Tiering archive tier (`ARCHIVE_ACCESS`, `DEEP_ARCHIVE_ACCESS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub pointer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub policy: Field<Option<PolicyDoc>>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub encryption: Field<Option<Encryption>>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub ownership: Field<Option<String>>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub requester_pays: Field<bool>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub public_access_block: Field<Option<PublicAccessBlock>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub census: Option<Census>,
    #[serde(skip_serializing_if = "field_map_empty")]
    pub objects: Field<BTreeMap<String, Field<Object>>>,
}

impl Bucket {
    /// A bucket of which nothing has been read yet.
    pub fn not_read(name: &str, pointer: String) -> Bucket {
        Bucket {
            name: name.to_string(),
            pointer,
            region: None,
            policy: Field::NotRead,
            encryption: Field::NotRead,
            ownership: Field::NotRead,
            requester_pays: Field::NotRead,
            public_access_block: Field::NotRead,
            census: None,
            objects: Field::NotRead,
        }
    }
}

fn field_map_empty<K, V>(f: &Field<BTreeMap<K, V>>) -> bool {
    matches!(f, Field::NotRead) || matches!(f, Field::Value(m) if m.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantDoc {
    pub grantee: String,
    pub operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct GrantConstraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Key {
    #[serde(skip)]
    pub arn: String,
    #[serde(skip)]
    pub pointer: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub policy: Field<Option<PolicyDoc>>,
    #[serde(skip_serializing_if = "field_vec_empty")]
    pub grants: Field<Vec<GrantDoc>>,
}

fn field_vec_empty<T>(f: &Field<Vec<T>>) -> bool {
    matches!(f, Field::NotRead) || matches!(f, Field::Value(m) if m.is_empty())
}

impl Key {
    pub fn is_aws_managed(&self) -> Option<bool> {
        if self.aliases.iter().any(|a| a.starts_with("alias/aws/")) {
            return Some(true);
        }
        self.manager.as_deref().map(|m| m == "AWS")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Role {
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub pointer: String,
    pub arn: String,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub trust_policy: Field<PolicyDoc>,
    #[serde(skip_serializing_if = "field_map_empty")]
    pub inline_policies: Field<BTreeMap<String, Field<PolicyDoc>>>,
    #[serde(skip_serializing_if = "field_map_empty")]
    pub managed_policies: Field<BTreeMap<String, Field<PolicyDoc>>>,
    /// GetRole returns the boundary with the role: absent in a read role = none.
    pub permissions_boundary: Field<Option<PolicyDoc>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub policy: Field<Option<PolicyDoc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Account {
    #[serde(skip)]
    pub id: String,
    #[serde(skip_serializing_if = "Field::is_not_read")]
    pub organization: Field<Option<Organization>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub buckets: BTreeMap<String, Field<Bucket>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, Field<Key>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Field<Role>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vpc_endpoints: BTreeMap<String, Field<Endpoint>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error { error: String, message: String },
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Ok => s.serialize_str("ok"),
            Outcome::Error { error, message } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("error", error)?;
                m.serialize_entry("message", message)?;
                m.end()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_principal: Option<String>,
    pub call: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub outcome: Outcome,
}

impl Probe {
    /// KMS answers a DryRun that would succeed with DryRunOperation.
    pub fn succeeded(&self) -> bool {
        match &self.outcome {
            Outcome::Ok => true,
            Outcome::Error { error, .. } => error.contains("DryRunOperation"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub copy: CopySpec,
    pub accounts: BTreeMap<String, Account>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<serde_json::Value>,
    /// Warnings found while loading (ignored fields...): not part of the format.
    #[serde(skip)]
    pub notes: Vec<String>,
}

pub const FORMAT: &str = "xacct-snapshot/1";

impl Snapshot {
    /// Which account holds a bucket (if it was read in any).
    pub fn bucket_account(&self, bucket: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|(_, a)| a.buckets.contains_key(bucket))
            .map(|(id, _)| id.as_str())
    }
    pub fn bucket(&self, bucket: &str) -> Option<(&str, &Field<Bucket>)> {
        self.accounts
            .iter()
            .find_map(|(id, a)| a.buckets.get(bucket).map(|b| (id.as_str(), b)))
    }
    /// A key by ARN, looked up in the account its ARN names.
    pub fn key(&self, arn: &str) -> Option<&Field<Key>> {
        let acct = crate::arn::account(arn)?;
        self.accounts.get(acct)?.keys.get(arn).or_else(|| {
            // the key may be listed under an alias or another account by mistake
            self.accounts.values().find_map(|a| a.keys.get(arn))
        })
    }
    pub fn role_by_arn(&self, arn: &str) -> Option<&Field<Role>> {
        let acct = crate::arn::account(arn)?;
        let account = self.accounts.get(acct)?;
        let name = arn.rsplit('/').next()?;
        account.roles.iter().find_map(|(k, r)| match r {
            Field::Value(role) if role.arn == arn => Some(r),
            _ if k == name || k == arn => Some(r),
            _ => None,
        })
    }
}
