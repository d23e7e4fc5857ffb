//! The copy plan: which requests `aws s3 cp --recursive` (or get-then-put) makes
//! for the planned copy, and the full request context of each — the S3
//! encryption context per object (object ARN, or bucket ARN with a Bucket Key),
//! multipart for large or unknown-size objects, the derived condition keys.

use std::collections::BTreeMap;

use crate::policy::{Context, CtxValue, Missing, Principal, Request};
use crate::snapshot::model::{Encryption, Field, Method, Object, Snapshot};

/// `aws s3 cp` copies objects of this size or more in parts.
pub const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;

/// What a planned request is for: the link it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    AssumeRole,
    ListSource,
    ReadObject,
    DecryptSource,
    WriteObject,
    EncryptDestination,
    DecryptDestination,
}

impl Step {
    pub fn describe(self) -> &'static str {
        match self {
            Step::AssumeRole => "assume the copying role",
            Step::ListSource => "list the source",
            Step::ReadObject => "read each object",
            Step::DecryptSource => "decrypt it with the source key",
            Step::WriteObject => "write each object",
            Step::EncryptDestination => "encrypt it with the destination key",
            Step::DecryptDestination => "multipart upload: kms:Decrypt on the destination key",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedRequest {
    pub step: Step,
    pub request: Request,
    /// The source object key this request is about, if any.
    pub object: Option<String>,
    /// A note for messages (e.g. "object written with a Bucket Key").
    pub note: String,
    /// Requests of one group are alternatives: only one of them is made, and
    /// the snapshot does not say which (an object's Bucket Key setting is not
    /// known). 0: not an alternative.
    pub alternative: u32,
}

impl PlannedRequest {
    pub fn describe(&self) -> String {
        let mut s = format!("{} on {}", self.request.action, self.request.resource);
        if self.request.action.starts_with("kms:")
            && let Some(o) = &self.object
        {
            s.push_str(&format!(" for object {o}"));
        }
        if !self.note.is_empty() {
            s.push_str(&format!(" ({})", self.note));
        }
        s
    }
}

/// A source object the plan copies: sampled, or a stand-in when none was sampled.
#[derive(Debug, Clone)]
pub struct PlanObject {
    pub key: String,
    /// Not a real object: the snapshot sampled none.
    pub stand_in: bool,
    pub size: Option<u64>,
    pub encryption: Option<Encryption>,
    pub owner: Option<String>,
    pub object: Option<Object>,
}

impl PlanObject {
    pub fn multipart(&self) -> bool {
        self.size.is_none_or(|s| s >= MULTIPART_THRESHOLD)
    }
}

/// How the destination key is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestKey {
    /// A KMS key ARN (customer managed or not: XA010 judges that).
    Key(String),
    /// SSE-KMS with the AWS managed `aws/s3` key (no key id).
    AwsManaged,
    /// No KMS key: SSE-S3 (or the DSSE/none case).
    NoKms(String),
    /// A key named by alias or key id that the snapshot cannot resolve.
    Unresolved(String),
    /// Cannot tell: the destination encryption was not read.
    Unknown(String),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub a: Option<String>,
    pub b: String,
    pub role_arn: String,
    pub principal: Principal,
    pub src_region: Option<String>,
    pub dst_region: Option<String>,
    pub objects: Vec<PlanObject>,
    /// Whether the objects list is a sample the snapshot actually holds.
    pub objects_known: bool,
    /// Source keys (ARNs) in use, in first-seen order.
    pub source_keys: Vec<String>,
    pub dest_key: DestKey,
    /// B's organization id: Some(Some(id)) known, Some(None) in no org, None not read.
    pub org_b: Option<Option<String>>,
}

fn region_of_arn(arn: &str) -> Option<&str> {
    crate::arn::region(arn)
}

fn account_of_arn(arn: &str) -> Option<&str> {
    crate::arn::account(arn)
}

impl Plan {
    pub fn new(s: &Snapshot) -> Plan {
        let c = &s.copy;
        let b = crate::snapshot::load::role_account(&c.principal)
            .unwrap_or("")
            .to_string();
        let principal = Principal::parse(&c.principal).unwrap_or(Principal::Role {
            account: b.clone(),
            arn: c.principal.clone(),
            name: c.principal.rsplit('/').next().unwrap_or("").to_string(),
        });
        let src = s.bucket(&c.source.bucket);
        let dst = s.bucket(&c.destination.bucket);
        let src_bucket = src.and_then(|(_, f)| f.value());
        let dst_bucket = dst.and_then(|(_, f)| f.value());

        // Objects: the sample under the copy's prefix, or one stand-in.
        let mut objects = Vec::new();
        let mut objects_known = false;
        if let Some(bk) = src_bucket
            && let Field::Value(objs) = &bk.objects
        {
            objects_known = true;
            for (key, o) in objs {
                if !key.starts_with(&c.source.prefix) {
                    continue;
                }
                let o = o.value();
                objects.push(PlanObject {
                    key: key.clone(),
                    stand_in: false,
                    size: o.and_then(|o| o.size),
                    encryption: o.and_then(|o| o.encryption.clone()),
                    owner: o.and_then(|o| o.owner.clone()),
                    object: o.cloned(),
                });
            }
        }
        let default_enc = src_bucket.and_then(|b| b.encryption.value().cloned().flatten());
        if objects.is_empty() {
            // No sample: judge a stand-in object under the prefix, encrypted as
            // the copy says or as the bucket's default encryption would.
            let enc = match (&c.source_key, &default_enc) {
                (Some(k), d) => Some(Encryption {
                    algorithm: "aws:kms".into(),
                    kms_key: Some(k.clone()),
                    bucket_key: d.as_ref().and_then(|d| d.bucket_key),
                }),
                (None, Some(d)) => Some(d.clone()),
                (None, None) => None,
            };
            objects.push(PlanObject {
                key: format!("{}xacct-example-object", c.source.prefix),
                stand_in: true,
                size: None,
                encryption: enc,
                owner: None,
                object: None,
            });
        }

        let mut source_keys: Vec<String> = Vec::new();
        for o in &objects {
            if let Some(e) = &o.encryption
                && e.is_kms()
            {
                let k = e
                    .kms_key
                    .clone()
                    .or_else(|| c.source_key.clone())
                    .unwrap_or_default();
                if !k.is_empty() && !source_keys.contains(&k) {
                    source_keys.push(k);
                }
            }
        }
        if source_keys.is_empty()
            && let Some(k) = &c.source_key
            && objects.iter().all(|o| o.encryption.is_none())
        {
            source_keys.push(k.clone());
        }

        let a = src
            .map(|(acct, _)| acct.to_string())
            .or_else(|| {
                c.source_key
                    .as_deref()
                    .and_then(account_of_arn)
                    .map(str::to_string)
            })
            .or_else(|| {
                source_keys
                    .first()
                    .and_then(|k| account_of_arn(k))
                    .map(str::to_string)
            });

        let dest_key = dest_key(s, dst_bucket.map(|b| &b.encryption));
        let org_b = match s.accounts.get(&b).map(|a| &a.organization) {
            Some(Field::Value(Some(o))) => o.id.clone().map(Some),
            Some(Field::Value(None)) => Some(None),
            _ => None,
        };
        Plan {
            a,
            b,
            role_arn: c.principal.clone(),
            principal,
            src_region: src_bucket.and_then(|b| b.region.clone()),
            dst_region: dst_bucket.and_then(|b| b.region.clone()),
            objects,
            objects_known,
            source_keys,
            dest_key,
            org_b,
        }
    }

    pub fn multipart(&self) -> bool {
        self.objects.iter().any(PlanObject::multipart)
    }

    pub fn same_account(&self) -> bool {
        self.a.as_deref() == Some(self.b.as_str())
    }

    /// The `aws:s3:arn` encryption-context values S3 uses for an object of the
    /// source: the object ARN, or the bucket ARN with a Bucket Key; both when
    /// the object's Bucket Key setting is not known.
    pub fn source_contexts(&self, s: &Snapshot, o: &PlanObject) -> Vec<(String, &'static str)> {
        let bucket_arn = s.copy.source.bucket_arn();
        let object_arn = format!("{bucket_arn}/{}", o.key);
        match o.encryption.as_ref().and_then(|e| e.bucket_key) {
            Some(true) => vec![(bucket_arn, "object written with a Bucket Key")],
            Some(false) => vec![(object_arn, "")],
            None => vec![
                (object_arn, "if written without a Bucket Key"),
                (bucket_arn, "if written with a Bucket Key"),
            ],
        }
    }

    /// Base context every request of the copy carries.
    fn base_context(&self, s: &Snapshot, owner: Option<&str>, region: Option<&str>) -> Context {
        let mut ctx = Context::with_missing(Missing::Unknown);
        ctx.set_str("aws:SecureTransport", "true");
        ctx.set_str("aws:PrincipalIsAWSService", "false");
        ctx.mark_absent("aws:username");
        match owner {
            Some(o) => ctx.set_str("aws:ResourceAccount", o),
            None => ctx.mark_unknown("aws:ResourceAccount"),
        }
        if let Some(r) = region {
            ctx.set_str("aws:RequestedRegion", r);
        }
        match &self.org_b {
            Some(Some(id)) => ctx.set_str("aws:PrincipalOrgID", id.clone()),
            Some(None) => ctx.mark_absent("aws:PrincipalOrgID"),
            None => ctx.mark_unknown("aws:PrincipalOrgID"),
        }
        // The role's own tags are its principal tags (session tags may add more).
        if let Some(Field::Value(role)) = s.role_by_arn(&self.role_arn) {
            for (k, v) in &role.tags {
                ctx.set_str(&format!("aws:PrincipalTag/{k}"), v.clone());
            }
        }
        ctx
    }

    fn apply_copy_context(ctx: &mut Context, s: &Snapshot, network: bool) {
        for (k, v) in &s.copy.context {
            let kl = k.to_ascii_lowercase();
            let is_network = matches!(
                kl.as_str(),
                "aws:sourceip" | "aws:sourcevpce" | "aws:sourcevpc" | "aws:vpcsourceip"
            );
            if is_network && !network {
                continue;
            }
            ctx.set(k, v.clone());
        }
    }

    fn request(
        &self,
        action: &str,
        resource: String,
        owner: Option<&str>,
        context: Context,
    ) -> Request {
        let mut r = Request {
            principal: self.principal.clone(),
            action: action.to_string(),
            resource,
            resource_account: owner.map(str::to_string),
            context,
        };
        r.derive_context();
        r
    }

    /// An S3 request made directly by the copy (not through a service).
    fn s3_context(&self, s: &Snapshot, owner: Option<&str>, region: Option<&str>) -> Context {
        let mut ctx = self.base_context(s, owner, region);
        ctx.set_str("aws:ViaAWSService", "false");
        for k in ["aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast"] {
            ctx.mark_absent(k);
        }
        match owner {
            Some(o) => ctx.set_str("s3:ResourceAccount", o),
            None => ctx.mark_unknown("s3:ResourceAccount"),
        }
        Self::apply_copy_context(&mut ctx, s, true);
        ctx
    }

    /// A KMS request S3 makes on the principal's behalf (forward access session).
    fn kms_context(
        &self,
        s: &Snapshot,
        key_arn: &str,
        via_region: Option<&str>,
        s3_arn: &str,
    ) -> Context {
        let owner = account_of_arn(key_arn);
        let mut ctx = self.base_context(s, owner, region_of_arn(key_arn));
        ctx.set_str("aws:ViaAWSService", "true");
        match via_region {
            Some(r) => ctx.set_str("kms:ViaService", format!("s3.{r}.amazonaws.com")),
            None => ctx.mark_unknown("kms:ViaService"),
        }
        ctx.set_str("kms:EncryptionContext:aws:s3:arn", s3_arn);
        ctx.set(
            "kms:EncryptionContextKeys",
            CtxValue::Multi(vec!["aws:s3:arn".into()]),
        );
        ctx.mark_absent("kms:EncryptionContext:*");
        ctx.set_str("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        ctx.mark_absent("kms:RequestAlias");
        ctx.mark_absent("kms:GrantIsForAWSResource");
        // the call comes from S3, not from the client's network
        for k in [
            "aws:SourceIp",
            "aws:SourceVpce",
            "aws:SourceVpc",
            "aws:VpcSourceIp",
        ] {
            ctx.mark_absent(k);
        }
        Self::apply_copy_context(&mut ctx, s, false);
        ctx
    }

    /// The source side: listing, reading every object, decrypting it.
    pub fn source_requests(&self, s: &Snapshot) -> Vec<PlannedRequest> {
        let src = &s.copy.source;
        let owner = self.a.as_deref();
        let region = self.src_region.as_deref();
        let mut out = Vec::new();
        let mut ctx = self.s3_context(s, owner, region);
        if src.prefix.is_empty() {
            ctx.mark_unknown("s3:prefix");
        } else {
            ctx.set_str("s3:prefix", src.prefix.clone());
        }
        out.push(PlannedRequest {
            step: Step::ListSource,
            request: self.request("s3:ListBucket", src.bucket_arn(), owner, ctx),
            object: None,
            note: String::new(),
            alternative: 0,
        });
        for o in &self.objects {
            let mut ctx = self.s3_context(s, owner, region);
            ctx.mark_absent("s3:x-amz-*");
            out.push(PlannedRequest {
                step: Step::ReadObject,
                request: self.request(
                    "s3:GetObject",
                    format!("{}/{}", src.bucket_arn(), o.key),
                    owner,
                    ctx,
                ),
                object: Some(o.key.clone()),
                note: if o.stand_in {
                    "any object under the prefix".into()
                } else {
                    String::new()
                },
                alternative: 0,
            });
        }
        out
    }

    /// kms:Decrypt on each source key for each object, with S3's context.
    pub fn decrypt_requests(&self, s: &Snapshot) -> Vec<PlannedRequest> {
        let mut out = Vec::new();
        // kms:ViaService names the region of the bucket the key encrypts; for a
        // cross-region copy the value S3 sends for the source key is not documented.
        let cross_region =
            matches!((&self.src_region, &self.dst_region), (Some(a), Some(b)) if a != b);
        for (oi, o) in self.objects.iter().enumerate() {
            let Some(e) = &o.encryption else { continue };
            if !e.is_kms() {
                continue;
            }
            let Some(key) = e.kms_key.clone().or_else(|| s.copy.source_key.clone()) else {
                continue;
            };
            let via = if cross_region {
                None
            } else {
                self.src_region.as_deref().or(region_of_arn(&key))
            };
            let contexts = self.source_contexts(s, o);
            let group = if contexts.len() > 1 {
                alternative_group(oi, 1)
            } else {
                0
            };
            for (arn, note) in contexts {
                let ctx = self.kms_context(s, &key, via, &arn);
                out.push(PlannedRequest {
                    step: Step::DecryptSource,
                    request: self.request("kms:Decrypt", key.clone(), account_of_arn(&key), ctx),
                    object: Some(o.key.clone()),
                    note: note.to_string(),
                    alternative: group,
                });
            }
        }
        out
    }

    /// s3:PutObject into the destination for every object.
    pub fn write_requests(&self, s: &Snapshot) -> Vec<PlannedRequest> {
        let dst = &s.copy.destination;
        let owner = Some(self.b.as_str());
        let mut out = Vec::new();
        for o in &self.objects {
            let key = dest_key_name(s, &o.key);
            let mut ctx = self.s3_context(s, owner, self.dst_region.as_deref());
            // request headers are known: the ones sent are present, the rest absent
            ctx.mark_absent("s3:x-amz-*");
            ctx.mark_absent("s3:RequestObjectTag*");
            ctx.mark_absent("s3:RequestObjectTagKeys");
            for (h, v) in &s.copy.request {
                if h.starts_with("x-amz-") {
                    ctx.set_str(&format!("s3:{h}"), v.clone());
                }
            }
            if s.copy.method == Method::Cli {
                ctx.set_str(
                    "s3:x-amz-copy-source",
                    format!("{}/{}", s.copy.source.bucket, o.key),
                );
                if !s.copy.request.contains_key("x-amz-metadata-directive") {
                    ctx.mark_absent("s3:x-amz-metadata-directive");
                }
            }
            out.push(PlannedRequest {
                step: Step::WriteObject,
                request: self.request(
                    "s3:PutObject",
                    format!("{}/{key}", dst.bucket_arn()),
                    owner,
                    ctx,
                ),
                object: Some(o.key.clone()),
                note: if o.stand_in {
                    "any object under the prefix".into()
                } else {
                    String::new()
                },
                alternative: 0,
            });
        }
        out
    }

    /// kms:GenerateDataKey (and kms:Decrypt for multipart) on the destination key.
    pub fn encrypt_requests(&self, s: &Snapshot) -> Vec<PlannedRequest> {
        let DestKey::Key(key) = &self.dest_key else {
            return Vec::new();
        };
        let dst = &s.copy.destination;
        let bucket_key = s
            .copy
            .header("x-amz-server-side-encryption-bucket-key-enabled")
            .map(|v| v.eq_ignore_ascii_case("true"))
            .or_else(|| {
                s.bucket(&dst.bucket)
                    .and_then(|(_, b)| b.value())
                    .and_then(|b| b.encryption.value().cloned().flatten())
                    .and_then(|e| e.bucket_key)
            });
        let via = self.dst_region.as_deref().or(region_of_arn(key));
        let mut out = Vec::new();
        for (oi, o) in self.objects.iter().enumerate() {
            let obj_arn = format!("{}/{}", dst.bucket_arn(), dest_key_name(s, &o.key));
            let contexts: Vec<(String, &str)> = match bucket_key {
                Some(true) => vec![(dst.bucket_arn(), "destination Bucket Key")],
                Some(false) => vec![(obj_arn, "")],
                None => vec![(obj_arn, ""), (dst.bucket_arn(), "with a Bucket Key")],
            };
            let (g_encrypt, g_decrypt) = if contexts.len() > 1 {
                (alternative_group(oi, 2), alternative_group(oi, 3))
            } else {
                (0, 0)
            };
            for (arn, note) in contexts {
                let ctx = self.kms_context(s, key, via, &arn);
                out.push(PlannedRequest {
                    step: Step::EncryptDestination,
                    request: self.request(
                        "kms:GenerateDataKey",
                        key.clone(),
                        account_of_arn(key),
                        ctx.clone(),
                    ),
                    object: Some(o.key.clone()),
                    note: note.to_string(),
                    alternative: g_encrypt,
                });
                if o.multipart() {
                    let why = if o.size.is_none() {
                        "size unknown, counted as multipart"
                    } else {
                        "multipart: object of 8 MiB or more"
                    };
                    out.push(PlannedRequest {
                        step: Step::DecryptDestination,
                        request: self.request("kms:Decrypt", key.clone(), account_of_arn(key), ctx),
                        object: Some(o.key.clone()),
                        note: why.to_string(),
                        alternative: g_decrypt,
                    });
                }
            }
        }
        out
    }

    /// Every request of the copy.
    pub fn all_requests(&self, s: &Snapshot) -> Vec<PlannedRequest> {
        let mut v = self.source_requests(s);
        v.extend(self.decrypt_requests(s));
        v.extend(self.write_requests(s));
        v.extend(self.encrypt_requests(s));
        v
    }
}

/// A group id for alternative requests: one per object and kind of request.
fn alternative_group(object_index: usize, kind: u32) -> u32 {
    (object_index as u32) * 4 + kind
}

/// The destination object key for a source key (prefix replaced).
pub fn dest_key_name(s: &Snapshot, src_key: &str) -> String {
    let rest = src_key
        .strip_prefix(&s.copy.source.prefix)
        .unwrap_or(src_key);
    let dp = &s.copy.destination.prefix;
    if dp.is_empty() || dp.ends_with('/') {
        format!("{dp}{rest}")
    } else {
        format!("{dp}/{rest}")
    }
}

/// Decide DK: `destination_key`, else the key id the request sends, else the
/// destination bucket's default encryption key.
fn dest_key(s: &Snapshot, dst_enc: Option<&Field<Option<Encryption>>>) -> DestKey {
    if let Some(k) = &s.copy.destination_key {
        return DestKey::Key(k.clone());
    }
    sent_or_default_key(s, dst_enc)
}

/// The key S3 would use for objects written into the destination, ignoring
/// `copy.destination_key` (the user's expectation, which XA010 compares with).
pub fn actual_dest_key(s: &Snapshot) -> DestKey {
    let dst = s
        .bucket(&s.copy.destination.bucket)
        .and_then(|(_, f)| f.value());
    sent_or_default_key(s, dst.map(|b| &b.encryption))
}

/// The key id the request sends, else the destination bucket's default
/// encryption key.
fn sent_or_default_key(s: &Snapshot, dst_enc: Option<&Field<Option<Encryption>>>) -> DestKey {
    let c = &s.copy;
    let sse = c.header("x-amz-server-side-encryption");
    if let Some(id) = c.header("x-amz-server-side-encryption-aws-kms-key-id") {
        return resolve_key(s, id);
    }
    match sse {
        Some("aws:kms") | Some("aws:kms:dsse") => return DestKey::AwsManaged,
        Some("AES256") => {
            return DestKey::NoKms(
                "the copy sends x-amz-server-side-encryption: AES256 (SSE-S3)".into(),
            );
        }
        _ => {}
    }
    match dst_enc {
        None => DestKey::Unknown(format!(
            "the destination bucket {} was not read",
            c.destination.bucket
        )),
        Some(Field::NotRead) => DestKey::Unknown(format!(
            "the default encryption of {} was not read",
            c.destination.bucket
        )),
        Some(Field::Unreadable(u)) => DestKey::Unknown(u.describe()),
        Some(Field::Value(None)) => DestKey::NoKms(format!(
            "{} has no default encryption configured: S3 applies SSE-S3",
            c.destination.bucket
        )),
        Some(Field::Value(Some(e))) => match (e.is_kms(), &e.kms_key) {
            (true, Some(k)) => resolve_key(s, k),
            (true, None) => DestKey::AwsManaged,
            (false, _) => DestKey::NoKms(format!(
                "{}'s default encryption is {} (SSE-S3), not SSE-KMS",
                c.destination.bucket, e.algorithm
            )),
        },
    }
}

/// A key named by ARN, alias, alias ARN or key id, resolved in B through the
/// keys' aliases when possible.
fn resolve_key(s: &Snapshot, id: &str) -> DestKey {
    if crate::snapshot::load::is_key_arn(id) {
        return DestKey::Key(id.to_string());
    }
    let alias = id.rsplit(':').next().unwrap_or(id);
    let b = crate::snapshot::load::role_account(&s.copy.principal).unwrap_or("");
    let found: BTreeMap<&String, _> = s
        .accounts
        .get(b)
        .map(|a| {
            a.keys
                .iter()
                .filter(|(arn, k)| {
                    arn.ends_with(&format!("key/{id}"))
                        || k.value()
                            .is_some_and(|k| k.aliases.iter().any(|al| al == alias))
                })
                .collect()
        })
        .unwrap_or_default();
    match found.keys().next() {
        Some(arn) if found.len() == 1 => DestKey::Key((*arn).clone()),
        _ => DestKey::Unresolved(id.to_string()),
    }
}
