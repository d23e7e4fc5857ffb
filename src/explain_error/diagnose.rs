//! From [`Facts`] to an [`Explanation`]: which links of the chain the error
//! points to, which account, what the text cannot tell apart, and the doctor
//! run that settles it. The rules follow failure-modes.md ("How the error text
//! behaves" and the FM entries) and the request table of checks.md.

use serde::Serialize;

use super::parse::{Deny, Facts, Marker, PolicyType, phrase};
use crate::checks;

/// A link the error points to.
#[derive(Debug, Clone, Serialize)]
pub struct LinkRef {
    pub id: &'static str,
    pub slug: &'static str,
    pub link: &'static str,
    /// The links the text points to; `false`: could also be this one.
    pub primary: bool,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// `A` (source owner), `B` (destination owner, the role's account),
    /// `A or B`, or `none` (not an authorization decision).
    pub side: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DoctorRun {
    pub command: String,
    pub why: String,
    /// What each UPPERCASE placeholder in the command stands for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub placeholders: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// What xacct recognised, in one line.
    pub recognised: String,
    pub facts: Facts,
    /// False when the error is not an authorization decision.
    pub permission_problem: bool,
    pub links: Vec<LinkRef>,
    pub account: Account,
    /// The policy type the message names (and its ARN when given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub ambiguous: Vec<String>,
    pub hints: Vec<String>,
    pub doctor: DoctorRun,
}

/// A request of the copy (checks.md, "The requests the copy makes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    /// s3:ListBucket on the source bucket.
    List,
    /// s3:GetObject on a source object.
    Read,
    /// Other source-object reads (tagging, ACL, attributes).
    ReadExtra,
    /// kms:Decrypt on the source key (S3 on the role's behalf).
    DecryptSource,
    /// kms:Decrypt on the destination key (multipart).
    DecryptDest,
    /// s3:PutObject on the destination.
    Write,
    /// Other destination-object writes (tagging, ACL).
    WriteExtra,
    /// kms:GenerateDataKey on the destination key.
    EncryptDest,
    /// sts:AssumeRole on the role.
    Assume,
}

impl Req {
    fn source_side(self) -> bool {
        matches!(
            self,
            Req::List | Req::Read | Req::ReadExtra | Req::DecryptSource
        )
    }
    fn what(self) -> &'static str {
        match self {
            Req::List => "s3:ListBucket on the source bucket",
            Req::Read => "s3:GetObject on the source objects",
            Req::ReadExtra => "reading the source objects' tags or ACL",
            Req::DecryptSource => "kms:Decrypt on the source key",
            Req::DecryptDest => "kms:Decrypt on the destination key (multipart)",
            Req::Write => "s3:PutObject on the destination",
            Req::WriteExtra => "writing the destination objects' tags or ACL",
            Req::EncryptDest => "kms:GenerateDataKey on the destination key",
            Req::Assume => "sts:AssumeRole on the copying role",
        }
    }
}

/// What decided: a named policy type, or a message that names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Named(PolicyType),
    /// KMS: "does not exist in this Region, no resource-based policies allow
    /// access, or a resource-based policy explicitly denies access".
    KmsRegion,
    /// S3: "The ciphertext refers to a customer master key that does not exist...".
    Ciphertext,
    /// `Access Denied`, `Forbidden`: nothing named.
    Generic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
    Either,
}

const ONE_TYPE_NAMED: &str = "Only one policy type is named even when several deny: after fixing this one, the next may show.";
const ATTRIBUTION: &str = "Across accounts the named side can be the wrong one: with B's identity allow missing and A's policy granting B's whole account, AWS has been seen to answer `no resource-based policy allows` (and the reverse when A's policy names the role). Check both sides.";
const GENERIC: &str = "The message names no policy: S3 answers callers outside the bucket owner's account and organization with a plain `Access Denied`, so neither the side (A or B) nor the policy type (identity, bucket, key, SCP, RCP, boundary, session, VPC endpoint) can be read from it.";
const HEAD_NO_BODY: &str = "A HEAD response has no body: the 403 can be a denied s3:GetObject on either side, Requester Pays without `--request-payer requester`, an object owned by a third account, or a key that does not exist while the role lacks s3:ListBucket (S3 then answers 403, not 404). HeadObject needs no KMS permission, so it is not the key.";
const KMS_UNNAMED: &str = "KMS does not name the key when S3 calls it (`on this resource`): CloudTrail in B shows the failed Decrypt or GenerateDataKey with the key ARN.";
const CIPHERTEXT: &str = "This S3 text covers a source key that does not exist, a key in another region, and a kms:Decrypt denied by A's key policy or by B's identity policy: it cannot tell them apart. If HeadObject on the same object succeeds, the problem is the key, not the bucket.";
const DELEGATION: &str = "`no identity-based policy allows` on B's own key is also what a key policy without the root-delegation statement produces (IAM allows then have no effect): read the key policy before editing IAM.";
const SAME_ORG: &str = "S3 includes this detail only for requests within one account or one AWS Organization: if the bucket is in another account, both accounts are in the same organization.";

struct Builder<'f> {
    f: &'f Facts,
    links: Vec<LinkRef>,
    ambiguous: Vec<String>,
    hints: Vec<String>,
    sides: Vec<(Side, String)>,
    doctor: DoctorPlan,
}

#[derive(Debug, Default)]
struct DoctorPlan {
    source: Option<String>,
    destination: Option<String>,
    role: Option<String>,
    /// AssumeRole was denied: check the trust policy against the caller.
    assume: bool,
    caller: Option<String>,
    source_key: Option<String>,
    destination_key: Option<String>,
    source_profile: bool,
    probe_writes: bool,
    census: bool,
    session_policy: bool,
    vpce: bool,
    /// An SCP or RCP decided: XA012 needs the organization's policies.
    organization: bool,
    region: Option<String>,
}

impl<'f> Builder<'f> {
    fn new(f: &'f Facts) -> Self {
        Builder {
            f,
            links: Vec::new(),
            ambiguous: Vec::new(),
            hints: Vec::new(),
            sides: Vec::new(),
            doctor: DoctorPlan::default(),
        }
    }

    fn link(&mut self, id: &'static str, primary: bool, why: impl Into<String>) {
        let Some(info) = checks::lookup(id) else {
            return;
        };
        if let Some(l) = self.links.iter_mut().find(|l| l.id == id) {
            if primary && !l.primary {
                l.primary = true;
                l.why = why.into();
            }
            return;
        }
        self.links.push(LinkRef {
            id: info.id,
            slug: info.slug,
            link: info.link,
            primary,
            why: why.into(),
        });
    }
    fn primary(&mut self, id: &'static str, why: impl Into<String>) {
        self.link(id, true, why);
    }
    fn also(&mut self, id: &'static str, why: impl Into<String>) {
        self.link(id, false, why);
    }
    fn ambiguous(&mut self, s: impl Into<String>) {
        let s = s.into();
        if !self.ambiguous.contains(&s) {
            self.ambiguous.push(s);
        }
    }
    fn hint(&mut self, s: impl Into<String>) {
        let s = s.into();
        if !self.hints.contains(&s) {
            self.hints.push(s);
        }
    }

    /// The links a denied request points to, given what decided.
    fn request(&mut self, req: Req, layer: Layer) {
        use PolicyType as P;
        self.sides.push(side(req, layer));
        if req.source_side() && matches!(layer, Layer::Generic | Layer::Ciphertext) {
            self.doctor.source_profile = true;
        }
        if matches!(
            req,
            Req::Write | Req::WriteExtra | Req::EncryptDest | Req::DecryptDest
        ) {
            self.doctor.probe_writes = true;
        }
        match (req, layer) {
            (Req::Assume, _) => self.assume(layer),
            (_, Layer::Named(P::Boundary)) => self.primary(
                "XA013",
                format!(
                    "the role's permissions boundary does not allow {}",
                    req.what()
                ),
            ),
            (_, Layer::Named(P::Session)) => {
                self.doctor.session_policy = true;
                self.primary(
                    "XA013",
                    format!(
                        "the session policy passed at AssumeRole does not allow {}",
                        req.what()
                    ),
                )
            }
            (_, Layer::Named(P::Endpoint)) => {
                self.doctor.vpce = true;
                self.primary(
                    "XA013",
                    format!(
                        "the VPC endpoint policy the request went through does not allow {}",
                        req.what()
                    ),
                )
            }
            (_, Layer::Named(P::Scp | P::Rcp)) if !self.doctor.organization => {
                self.doctor.organization = true;
                self.request(req, layer);
            }
            (_, Layer::Named(P::Scp)) => self.primary(
                "XA012",
                format!(
                    "a service control policy of B's organization blocks {}",
                    req.what()
                ),
            ),
            (_, Layer::Named(P::Rcp)) => self.primary(
                "XA012",
                format!(
                    "a resource control policy of the {} owner's organization blocks {}",
                    if req.source_side() {
                        "source (A)"
                    } else {
                        "destination (B)"
                    },
                    req.what()
                ),
            ),
            (Req::List | Req::Read | Req::ReadExtra, Layer::Named(P::Identity)) => {
                self.primary(
                    "XA006",
                    format!(
                        "the role's identity policies in B do not allow {}",
                        req.what()
                    ),
                );
                self.also("XA002", "if A's bucket policy grants B's account rather than the role, AWS may blame the wrong side");
                self.ambiguous(ATTRIBUTION);
                self.ambiguous(SAME_ORG);
                self.extra_read(req);
            }
            (Req::List | Req::Read | Req::ReadExtra, Layer::Named(P::Resource)) => {
                self.doctor.source_profile = true;
                self.primary(
                    "XA002",
                    format!(
                        "the source bucket policy in A does not allow {}",
                        req.what()
                    ),
                );
                self.also(
                    "XA006",
                    "the role's own allow may be the one missing (attribution across accounts)",
                );
                if req == Req::Read {
                    self.also("XA011", "an object owned by a third account is reached only through its ACL, whatever A's bucket policy says");
                }
                self.ambiguous(ATTRIBUTION);
                self.ambiguous(SAME_ORG);
                self.extra_read(req);
            }
            (Req::List | Req::Read | Req::ReadExtra, _) => {
                self.primary(
                    "XA002",
                    format!("A's bucket policy may not allow {}", req.what()),
                );
                self.primary(
                    "XA006",
                    format!("B's identity policies may not allow {}", req.what()),
                );
                if req != Req::List {
                    self.also(
                        "XA011",
                        "objects owned by a third account are reached only through their ACLs",
                    );
                }
                self.also(
                    "XA016",
                    "Requester Pays on the source without `--request-payer requester` is a 403 too",
                );
                self.also(
                    "XA012",
                    "an SCP of B's organization or an RCP of A's denies without being named",
                );
                self.also("XA013", "a permissions boundary, session policy or VPC endpoint policy denies without being named");
                self.extra_read(req);
            }
            (Req::DecryptSource, Layer::Named(P::Identity)) => {
                self.primary("XA007", "the role's identity policies in B do not allow kms:Decrypt on the source key's ARN (an alias or key id in `Resource` does not match)");
                self.also(
                    "XA003",
                    "A's key policy may be the one missing (attribution across accounts)",
                );
                self.ambiguous(ATTRIBUTION);
            }
            (Req::DecryptSource, Layer::Named(P::Resource)) => {
                self.doctor.source_profile = true;
                self.primary("XA003", "the source key policy in A (or a grant) does not allow the role kms:Decrypt with S3's context");
                self.also("XA007", "the role's own kms:Decrypt allow may be the one missing (attribution across accounts)");
                self.ambiguous(ATTRIBUTION);
            }
            (Req::DecryptSource, Layer::KmsRegion) => {
                self.doctor.source_profile = true;
                self.primary("XA003", "KMS found no key policy statement (or grant) in A that lets the role decrypt, or one that denies it");
                self.also(
                    "XA009",
                    "the key may not exist, or not in the bucket's region",
                );
                self.also(
                    "XA007",
                    "B's identity policy must also allow kms:Decrypt on the key ARN",
                );
                self.ambiguous("KMS words it this way for a key in another account: the key is missing or in another region, or A's key policy does not allow (or denies) the role. KMS does not say which.");
            }
            (Req::DecryptSource, _) => {
                self.doctor.source_profile = true;
                self.primary(
                    "XA003",
                    "A's key policy may not allow the role kms:Decrypt via S3",
                );
                self.primary(
                    "XA007",
                    "B's identity policies may not allow kms:Decrypt on the source key's ARN",
                );
                self.also("XA008", "objects under the AWS managed key aws/s3 can never be decrypted from another account");
                self.also(
                    "XA009",
                    "the key may be missing, disabled, or in another region",
                );
                self.also("XA012", "an SCP or RCP may deny kms:Decrypt");
                if layer == Layer::Ciphertext {
                    self.ambiguous(CIPHERTEXT);
                }
            }
            (Req::DecryptDest, _) => {
                self.primary("XA004", "the destination key does not allow the role kms:Decrypt, which multipart uploads and copies need (UploadPart, UploadPartCopy, and CompleteMultipartUpload with checksums)");
                if layer == Layer::Named(P::Identity) {
                    self.ambiguous(DELEGATION);
                }
            }
            (Req::Write | Req::WriteExtra, l) => {
                let who = match l {
                    Layer::Named(P::Identity) => "the role's identity policies do not allow",
                    Layer::Named(P::Resource) => {
                        "the destination bucket policy denies (or, with no identity allow, does not allow)"
                    }
                    _ => "B's identity policies or the destination bucket policy do not allow",
                };
                self.primary("XA005", format!("{who} {}", req.what()));
                if l == Layer::Named(P::Resource) {
                    self.hint("A destination bucket policy that requires `s3:x-amz-server-side-encryption` or a key id denies `aws s3 cp` without `--sse aws:kms --sse-kms-key-id KEY_ARN` (the header is absent, the negated condition is true); `s3:x-amz-acl` or `s3:x-amz-copy-source` conditions deny the same way.");
                }
                if l == Layer::Generic {
                    self.also("XA011", "an ACL sent to a bucket with BucketOwnerEnforced, or a public ACL under Block Public Access, is refused");
                    self.also("XA012", "an SCP may deny the write without being named");
                    self.also(
                        "XA013",
                        "a boundary, session or VPC endpoint policy may deny without being named",
                    );
                }
                if req == Req::WriteExtra {
                    self.hint("xacct's checks judge s3:PutObject; s3:PutObjectTagging / s3:PutObjectAcl are needed only when the copy sets tags or an ACL (`aws s3 cp` CLI v2 copies tags by default: add s3:PutObjectTagging, or pass `--copy-props metadata-directive`).");
                }
            }
            (Req::EncryptDest, l) => {
                self.primary("XA004", "the destination key does not let the role kms:GenerateDataKey: its key policy neither names the role nor delegates to B's account root, or the role's identity policy does not allow it on the key ARN");
                self.also(
                    "XA009",
                    "the key may be disabled, pending deletion, or in another region",
                );
                self.also("XA010", "the destination's default encryption may name another key (an alias or key id resolves in the requester's account)");
                if l == Layer::Named(P::Identity) {
                    self.ambiguous(DELEGATION);
                }
            }
        }
    }

    fn extra_read(&mut self, req: Req) {
        if req == Req::ReadExtra {
            self.hint("xacct's checks judge s3:ListBucket and s3:GetObject; `aws s3 cp` (CLI v2, `--copy-props default`) also calls GetObjectTagging on the source: grant s3:GetObjectTagging on the objects in both A's bucket policy and B's identity policy, or pass `--copy-props metadata-directive`.");
        }
    }

    fn assume(&mut self, layer: Layer) {
        self.doctor.assume = true;
        self.doctor.caller = self
            .f
            .principal
            .clone()
            .filter(|p| p.starts_with("arn:") && !p.contains("..."));
        match layer {
            Layer::Named(PolicyType::Scp) => {
                self.primary("XA001", "an SCP of the caller's organization denies sts:AssumeRole; the role's trust policy may still be right");
            }
            Layer::Named(PolicyType::Identity) => {
                self.primary("XA001", "the caller's own identity policy does not allow sts:AssumeRole on the role (needed when the caller is an IAM user or role)");
            }
            _ => {
                self.primary("XA001", "the role's trust policy does not let the caller assume it (or the role does not exist)");
            }
        }
        self.ambiguous("The trust policy (the role's side), the caller's identity policy and an SCP or RCP on STS can each deny AssumeRole; the generic message does not say which. With session tags or a source identity, sts:TagSession / sts:SetSourceIdentity must be allowed too.");
        self.hint("If this runs on EC2, ECS, Lambda or EKS, the platform fails to get credentials and the CLI may fall back to another profile: the S3 calls then run as the wrong principal. `aws sts get-caller-identity` shows who you are.");
    }
}

/// Which account holds the document that decided, and why xacct thinks so.
fn side(req: Req, layer: Layer) -> (Side, String) {
    use PolicyType as P;
    if req == Req::Assume {
        return (Side::B, "the role and its trust policy are in B".into());
    }
    let src = req.source_side();
    let kms = matches!(
        req,
        Req::DecryptSource | Req::DecryptDest | Req::EncryptDest
    );
    let (side, why) = match layer {
        Layer::Named(P::Identity) => (Side::B, "the role's identity policies are in B"),
        Layer::Named(P::Boundary) => (Side::B, "the role's permissions boundary is in B"),
        Layer::Named(P::Session) => (
            Side::B,
            "the session policy is passed when the role is assumed in B",
        ),
        Layer::Named(P::Endpoint) => (Side::B, "the VPC endpoint is in B's network"),
        Layer::Named(P::Scp) => (
            Side::B,
            "the SCPs that govern the role are B's organization's",
        ),
        Layer::Named(P::Rcp) if src => (
            Side::A,
            "the RCPs that govern A's bucket and key are A's organization's",
        ),
        Layer::Named(P::Rcp) => (
            Side::B,
            "the RCPs that govern B's bucket and key are B's organization's",
        ),
        Layer::Named(P::Resource) | Layer::KmsRegion if src && kms => {
            (Side::A, "the source key and its key policy are in A")
        }
        Layer::Named(P::Resource) if src => (Side::A, "the source bucket policy is in A"),
        Layer::Named(P::Resource) | Layer::KmsRegion => {
            (Side::B, "the destination bucket and key policies are in B")
        }
        Layer::Ciphertext | Layer::Generic if src => (
            Side::Either,
            "the message does not say whether A's side (bucket or key policy) or B's side (the role's policies) denied",
        ),
        Layer::Ciphertext | Layer::Generic => (
            Side::B,
            "the destination bucket and key are B's, and so is the role",
        ),
    };
    (side, why.to_string())
}

/// The requests an operation makes (checks.md request table, failure-modes 0.2).
fn requests_of_operation(op: &str) -> Option<Vec<Req>> {
    Some(match op {
        "ListObjectsV2" | "ListObjects" | "ListObjectVersions" | "HeadBucket" => vec![Req::List],
        "HeadObject" => vec![Req::Read],
        "GetObject" => vec![Req::Read, Req::DecryptSource],
        "CopyObject" => vec![Req::Read, Req::DecryptSource, Req::Write, Req::EncryptDest],
        "UploadPartCopy" => vec![Req::Read, Req::DecryptSource, Req::Write, Req::DecryptDest],
        "CreateMultipartUpload" | "PutObject" => vec![Req::Write, Req::EncryptDest],
        "UploadPart" | "CompleteMultipartUpload" => vec![Req::Write, Req::DecryptDest],
        "GetObjectTagging" | "GetObjectAcl" | "GetObjectAttributes" => vec![Req::ReadExtra],
        "PutObjectTagging" | "PutObjectAcl" => vec![Req::WriteExtra],
        "AssumeRole" | "AssumeRoleWithSAML" | "AssumeRoleWithWebIdentity" => vec![Req::Assume],
        _ => return None,
    })
}

/// The requests a denied action stands for. The bool: a kms:Decrypt whose key
/// could be either one.
fn requests_of_action(f: &Facts, action: &str) -> (Vec<Req>, bool) {
    let a = action.to_ascii_lowercase();
    let reqs = match a.as_str() {
        "s3:listbucket" | "s3:listbucketversions" => vec![Req::List],
        "s3:getobject" | "s3:getobjectversion" => vec![Req::Read],
        a if a.starts_with("s3:getobject") => vec![Req::ReadExtra],
        "s3:putobject" | "s3:abortmultipartupload" => vec![Req::Write],
        a if a.starts_with("s3:putobject") => vec![Req::WriteExtra],
        "kms:decrypt" => return decrypt_requests(f),
        a if a.starts_with("kms:generatedatakey") || a == "kms:encrypt" => vec![Req::EncryptDest],
        a if a.starts_with("sts:assumerole")
            || a == "sts:tagsession"
            || a == "sts:setsourceidentity" =>
        {
            vec![Req::Assume]
        }
        _ => Vec::new(),
    };
    (reqs, false)
}

fn decrypt_requests(f: &Facts) -> (Vec<Req>, bool) {
    if let (Some(k), Some(p)) = (f.key_account(), f.principal_account()) {
        return if k == p {
            (vec![Req::DecryptDest], false)
        } else {
            (vec![Req::DecryptSource], false)
        };
    }
    match f.operation.as_deref() {
        Some("UploadPart" | "CompleteMultipartUpload") => (vec![Req::DecryptDest], false),
        Some("UploadPartCopy") => (vec![Req::DecryptSource, Req::DecryptDest], true),
        Some("CopyObject" | "GetObject" | "HeadObject") => (vec![Req::DecryptSource], false),
        _ => (vec![Req::DecryptSource], true),
    }
}

fn layer(f: &Facts) -> Layer {
    if f.has(Marker::KmsNotInRegionOrNoPolicy) {
        return Layer::KmsRegion;
    }
    match f.policy_type {
        Some(t) => Layer::Named(t),
        None if f.has(Marker::Ciphertext) => Layer::Ciphertext,
        None => Layer::Generic,
    }
}

/// Explain pasted error text; `None` when nothing in it is recognised.
pub fn explain(f: Facts) -> Option<Explanation> {
    let mut b = Builder::new(&f);
    let (recognised, permission) = non_auth(&mut b).map_or_else(
        || access_denied(&mut b).map(|r| (r, true)),
        |r| Some((r, false)),
    )?;
    let Builder {
        links,
        ambiguous,
        hints,
        sides,
        mut doctor,
        ..
    } = b;
    locate(&f, &sides, &links, &mut doctor);
    let account = account(&f, &sides, permission);
    let policy = f.policy_type.map(|t| {
        let how = match f.deny {
            Some(Deny::Explicit) => "explicit deny",
            _ => "implicit deny: nothing allows it",
        };
        match &f.policy_arn {
            Some(arn) => format!("{} ({how}): {arn}", phrase(t)),
            None => format!("{} ({how}); the message names no policy ARN", phrase(t)),
        }
    });
    let mut hints = hints;
    if let Some(arn) = &f.policy_arn
        && !arn.contains("...")
    {
        hints.push(policy_arn_hint(arn));
    }
    let doctor = render_doctor(doctor, permission, &links);
    Some(Explanation {
        recognised,
        facts: f.clone(),
        permission_problem: permission,
        links,
        account,
        policy,
        ambiguous,
        hints,
        doctor,
    })
}

/// How to read the denying policy the message names.
fn policy_arn_hint(arn: &str) -> String {
    if arn.starts_with("arn:aws:organizations::") {
        let id = arn.rsplit('/').next().unwrap_or(arn);
        format!(
            "The message names the denying policy: `aws organizations describe-policy --policy-id {id}` shows it (from the organization's management account or a delegated administrator)."
        )
    } else {
        format!(
            "The message names the denying policy: `aws iam get-policy-version --policy-arn {arn} --version-id $(aws iam get-policy --policy-arn {arn} --query Policy.DefaultVersionId --output text)` shows it."
        )
    }
}

/// AccessDenied in its detailed, generic, HEAD and KMS forms.
fn access_denied(b: &mut Builder<'_>) -> Option<String> {
    let f = b.f;
    let layer = layer(f);
    let op = f.operation.as_deref();
    let (mut reqs, decrypt_unsure) = match f.action.as_deref() {
        Some(a) => requests_of_action(f, a),
        None => (Vec::new(), false),
    };
    if reqs.is_empty() && matches!(layer, Layer::Ciphertext | Layer::KmsRegion) {
        reqs = vec![Req::DecryptSource];
    }
    if reqs.is_empty()
        && let Some(o) = op
    {
        reqs = requests_of_operation(o).unwrap_or_default();
    }
    let recognised_denial = f.is_detailed()
        || matches!(layer, Layer::Ciphertext | Layer::KmsRegion)
        || f.has(Marker::AccessDenied)
        || f.has(Marker::Forbidden)
        || f.http_status == Some(403)
        || f.code
            .as_deref()
            .is_some_and(|c| c.contains("AccessDenied"));
    if !recognised_denial {
        return None;
    }
    let head = matches!(op, Some("HeadObject" | "HeadBucket"))
        || f.has(Marker::Forbidden) && !f.is_detailed() && !f.has(Marker::AccessDenied);
    if reqs.is_empty() && head && layer == Layer::Generic {
        // a bare 403 Forbidden: a HEAD on the bucket or an object, no KMS involved
        reqs = vec![Req::List, Req::Read];
    }
    let generic_all = reqs.is_empty();
    if generic_all {
        // nothing says which request: every link a policy can break
        reqs = match (layer, f.policy_type) {
            (Layer::Named(PolicyType::Identity), _) => {
                vec![
                    Req::List,
                    Req::Read,
                    Req::DecryptSource,
                    Req::Write,
                    Req::EncryptDest,
                ]
            }
            (Layer::Named(PolicyType::Resource), _) => {
                vec![
                    Req::List,
                    Req::Read,
                    Req::DecryptSource,
                    Req::Write,
                    Req::EncryptDest,
                ]
            }
            (Layer::Named(_), _) => vec![Req::Read],
            _ => vec![
                Req::List,
                Req::Read,
                Req::DecryptSource,
                Req::Write,
                Req::EncryptDest,
            ],
        };
    }
    for r in &reqs {
        b.request(*r, layer);
    }
    if generic_all && layer == Layer::Named(PolicyType::Resource) {
        b.ambiguous("The message names neither the action nor the resource: A's bucket or key policy, or B's bucket or key policy, can each be the resource-based policy meant.");
    }
    if generic_all && layer == Layer::Named(PolicyType::Identity) {
        b.ambiguous("The message names neither the action nor the resource: any of the role's identity-policy links can be meant.");
    }
    if decrypt_unsure {
        b.also(
            "XA004",
            "kms:Decrypt is also needed on the destination key for multipart copies",
        );
        b.ambiguous("kms:Decrypt without a key ARN or operation: it is the source key when reading, the destination key for multipart uploads (UploadPart, UploadPartCopy, CompleteMultipartUpload).");
    }
    if f.resource_unnamed {
        b.ambiguous(KMS_UNNAMED);
    }
    if matches!(layer, Layer::Named(_)) {
        b.ambiguous(ONE_TYPE_NAMED);
    }
    if layer == Layer::Generic {
        if head {
            b.ambiguous(HEAD_NO_BODY);
        } else {
            b.ambiguous(GENERIC);
        }
    }
    if matches!(op, Some("HeadObject")) && layer == Layer::Generic {
        b.hint("HeadObject needs no KMS permission, so this 403 is not the key: it is the bucket policy, the role's policies, object ownership or Requester Pays. `aws s3api head-object --bucket SOURCE_BUCKET --key KEY --request-payer requester` succeeding means Requester Pays (XA016).");
    }
    if f.has(Marker::ExpiredToken) {
        b.hint("The text also mentions an expired token: see `xacct explain ExpiredToken`.");
    }
    let svc = match f.action.as_deref().and_then(|a| a.split(':').next()) {
        Some("kms") => "KMS ",
        Some("s3") => "S3 ",
        Some("sts") => "STS ",
        _ if layer == Layer::Ciphertext || layer == Layer::KmsRegion => "KMS ",
        _ => "",
    };
    Some(match layer {
        Layer::Named(t) => match f.deny {
            Some(Deny::Explicit) => format!(
                "{svc}AccessDenied, detailed form: an explicit deny in a {}",
                phrase(t)
            ),
            _ => format!(
                "{svc}AccessDenied, detailed form: no {} allows it (implicit deny)",
                phrase(t)
            ),
        },
        Layer::KmsRegion => "KMS AccessDenied through S3: \"the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access\"".into(),
        Layer::Ciphertext => "S3 AccessDenied on the object's KMS key: \"The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access\"".into(),
        Layer::Generic if head => format!(
            "403 Forbidden on {} (HEAD requests carry no error body)",
            op.unwrap_or("a HEAD request")
        ),
        Layer::Generic => match op {
            Some(o) => format!("AccessDenied on {o}, generic form (`Access Denied`, no policy named)"),
            None => "AccessDenied, generic form (`Access Denied`, no policy named)".into(),
        },
    })
}

/// Failures that are not an authorization decision (or not one xacct's policy
/// links decide), each recognised by its code or wording.
fn non_auth(b: &mut Builder<'_>) -> Option<String> {
    let f = b.f;
    let key_is_dest = f
        .key_account()
        .zip(f.principal_account())
        .is_some_and(|(k, p)| k == p);
    let key_state = [
        Marker::KeyDisabled,
        Marker::KeyPendingDeletion,
        Marker::KeyPendingImport,
        Marker::KeyUnavailable,
        Marker::KeyInvalidState,
        Marker::KeyNotFound,
        Marker::KeyUsage,
    ];
    if key_state.iter().any(|m| f.has(*m)) && !f.is_detailed() {
        let which = if f.has(Marker::KeyDisabled) {
            "the key is disabled"
        } else if f.has(Marker::KeyPendingDeletion) {
            "the key is pending deletion"
        } else if f.has(Marker::KeyPendingImport) {
            "the key's imported material is missing or expired (pending import)"
        } else if f.has(Marker::KeyUnavailable) {
            "the key's custom key store is unavailable"
        } else if f.has(Marker::KeyInvalidState) {
            "the key is not in a usable state (disabled, pending deletion or import, or unavailable)"
        } else if f.has(Marker::KeyNotFound) {
            "the key does not exist: deleted, or the ARN names another account or region"
        } else {
            "the key is not a symmetric ENCRYPT_DECRYPT key (S3 supports only those)"
        };
        b.primary("XA009", format!("{which}; S3 cannot use it"));
        if f.has(Marker::KeyNotFound) {
            b.also("XA010", "the destination's default encryption may name a key id or alias that resolves to no key (or to one in the requester's account)");
        }
        match (f.key_arn.as_ref(), key_is_dest) {
            (Some(k), true) => b.doctor.destination_key = Some(k.clone()),
            (Some(k), false) => {
                if f.principal_account().is_some() {
                    b.doctor.source_profile = true;
                }
                b.doctor.source_key = Some(k.clone());
            }
            _ => {}
        }
        let both_known = f.key_account().is_some() && f.principal_account().is_some();
        b.sides.push(match (key_is_dest, both_known) {
            (true, _) => (
                Side::B,
                "the key is in the role's own account: the destination key".into(),
            ),
            (false, true) => (
                Side::A,
                "the key is in another account than the role: the source key".into(),
            ),
            (false, false) => (
                Side::Either,
                "the message does not say whose key it is: A's source key or B's destination key"
                    .into(),
            ),
        });
        b.ambiguous("The code names the key's state, not whose key it is: a key ARN of the role's own account is the destination key, another account's the source key. Without the ARN, CloudTrail in B shows the failed call and the key.");
        b.hint("Fix in the key's account: `aws kms enable-key`, `aws kms cancel-key-deletion` (then enable), re-import key material, or reconnect the custom key store; S3 needs a symmetric key in the bucket's region.");
        let code = f.code.clone().unwrap_or_else(|| "KMS error".into());
        return Some(format!("{code}: {which}"));
    }
    if f.has(Marker::Throttled) {
        b.hint("Cross-account KMS requests are throttled against the caller's account (B), not the key owner's: lower `max_concurrent_requests` (aws configure set default.s3.max_concurrent_requests 4), enable S3 Bucket Keys on the destination, or ask for a higher KMS request quota in B.");
        b.ambiguous("Throttling is not a permission problem; none of xacct's links covers it and the doctor cannot reproduce it.");
        return Some(format!(
            "{}: requests exceeded the {} rate (not a permission problem)",
            f.code.clone().unwrap_or_else(|| "Throttling".into()),
            if f.code.as_deref().is_some_and(|c| c.contains("SlowDown")) {
                "S3"
            } else {
                "KMS"
            }
        ));
    }
    if f.has(Marker::Archived) {
        b.primary("XA015", "the source object is in GLACIER, DEEP_ARCHIVE or an archive tier of INTELLIGENT_TIERING without a completed restore");
        b.doctor.census = true;
        b.sides.push((
            Side::A,
            "the objects are A's; A (or a role A allows s3:RestoreObject) restores them".into(),
        ));
        b.ambiguous("S3 answers with HTTP 403 here although no policy is involved.");
        b.hint("Restore first (aws s3api restore-object --bucket SOURCE_BUCKET --key KEY --restore-request Days=7 in A, or by the role with s3:RestoreObject), then copy; `aws s3 cp --force-glacier-transfer` copies restored objects, `--ignore-glacier-warnings` skips the rest.");
        return Some("archived source object: InvalidObjectState / ObjectNotInActiveTierError (HTTP 403, not a permission problem)".into());
    }
    if f.has(Marker::AclNotSupported) {
        b.primary("XA011", "the copy sends an ACL (`--acl`, `--grants`) to a destination bucket whose Object Ownership is BucketOwnerEnforced");
        b.sides.push((
            Side::B,
            "the destination bucket's Object Ownership setting is B's".into(),
        ));
        b.hint("Drop `--acl` / `--grants` from the copy (or use `--acl bucket-owner-full-control`, which enforced buckets accept).");
        return Some(
            "AccessControlListNotSupported: the destination bucket does not allow ACLs".into(),
        );
    }
    if f.has(Marker::SseC) {
        b.primary("XA008", "the source object is encrypted with SSE-C (a customer-provided key): S3 needs that key with the request");
        b.sides.push((
            Side::A,
            "the objects were written into A's bucket with SSE-C".into(),
        ));
        b.doctor.census = true;
        b.hint("Copy with `--sse-c-copy-source AES256 --sse-c-copy-source-key KEY` and write with SSE-KMS under B's key. If the destination blocks SSE-C (the default for new buckets since April 2026), do not send SSE-C headers on the write.");
        return Some(
            "InvalidRequest: the source object uses SSE-C and the request did not send its key"
                .into(),
        );
    }
    if f.has(Marker::ExpiredToken) {
        b.sides
            .push((Side::B, "the role session that runs the copy is B's".into()));
        b.hint("Role-chained sessions last at most one hour. Use a longer session (DurationSeconds up to the role's MaxSessionDuration, not chained), credentials that refresh themselves (instance profile, container credentials, credential_process), or split the copy.");
        b.ambiguous("Not an authorization decision: the session that runs the copy ran out mid-way. xacct's links do not cover session length.");
        return Some("ExpiredToken: the role session's credentials expired during the copy".into());
    }
    if f.has(Marker::WrongRegion) {
        b.doctor.region = f.region.clone();
        b.hint(match &f.region {
            Some(r) => format!("The bucket is in {r}: run the copy with `--source-region {r}` (source) or `--region {r}` (destination)."),
            None => "Send the request to the bucket's region: `aws s3 cp ... --source-region SOURCE_REGION --region DESTINATION_REGION` (HeadBucket's x-amz-bucket-region header says which).".into(),
        });
        b.ambiguous("Not an authorization decision: the request went to the wrong regional endpoint. Cross-region copies through a VPC endpoint fail too.");
        return Some(format!(
            "{}: the request was sent to the wrong region",
            f.code.clone().unwrap_or_else(|| "PermanentRedirect".into())
        ));
    }
    if f.has(Marker::SignatureMismatch) || f.has(Marker::BadCredentials) || f.has(Marker::ClockSkew)
    {
        b.hint(if f.has(Marker::ClockSkew) {
            "Fix the machine's clock (it is more than 15 minutes off)."
        } else {
            "Check the profile and the secret access key (`aws sts get-caller-identity --profile ...`); a trailing newline or a stale AWS_SESSION_TOKEN in the environment causes this too."
        });
        b.ambiguous("Not an authorization decision: the request's credentials or signature were rejected before any policy was read. `xacct doctor` exits 4 in this case.");
        return Some(format!(
            "{}: the credentials or the request signature were rejected",
            f.code
                .clone()
                .unwrap_or_else(|| "SignatureDoesNotMatch".into())
        ));
    }
    if f.has(Marker::SigV4Required) {
        b.hint("Use a client that signs with Signature Version 4 over HTTPS (any current AWS CLI or SDK).");
        return Some(
            "InvalidArgument: SSE-KMS objects need Signature Version 4 (legacy client)".into(),
        );
    }
    if f.has(Marker::AllAccessDisabled) {
        b.ambiguous("Not a policy decision: AWS has disabled all access to the bucket or object (for example, the owning account is suspended or closed). No policy change fixes it.");
        b.hint("The bucket owner has to contact AWS Support.");
        return Some("AllAccessDisabled: AWS has disabled all access to this resource".into());
    }
    if f.has(Marker::MalformedBucketPolicy)
        || f.has(Marker::MalformedKeyPolicy)
        || f.has(Marker::MalformedIamPolicy)
    {
        if f.has(Marker::MalformedKeyPolicy) {
            b.primary("XA003", "AWS refused to store the key policy: if it is the source key's, the role cannot be allowed until it is valid");
            b.also("XA004", "the same if it is the destination key's policy");
        } else if f.has(Marker::MalformedIamPolicy) {
            b.primary(
                "XA006",
                "IAM refused the role's policy: the role's allows are not in place",
            );
            b.also("XA005", "the same for the write statements");
            b.also("XA007", "the same for the key statements");
            b.also(
                "XA001",
                "or the trust policy, if it was the one being saved",
            );
        } else {
            b.primary("XA002", "S3 refused to store the source bucket policy (an invalid principal, often a role that does not exist yet or an ARN without account id, or an unknown action)");
            b.also("XA005", "the same if it is the destination bucket policy");
        }
        b.hint("Run `xacct lint POLICY.json` on the document: it points at the entry AWS rejects (a principal without account id, typographic quotes, a statement without Principal, an unknown action) with the fix. A role must exist before a bucket or key policy can name it.");
        return Some(format!(
            "{}: AWS refused to store a policy document",
            f.code.clone().unwrap_or_else(|| "MalformedPolicy".into())
        ));
    }
    if f.has(Marker::NoSuchBucket) {
        b.hint("Check the bucket name (and the account: `--expected-bucket-owner` mismatches are 403).");
        return Some("NoSuchBucket: the bucket does not exist".into());
    }
    if f.has(Marker::NoSuchKey) {
        b.hint("The object does not exist (or its current version is a delete marker). Note that without s3:ListBucket, S3 answers a missing key with 403, not NoSuchKey.");
        return Some("NoSuchKey: the object does not exist".into());
    }
    if f.has(Marker::CopyTooLarge) {
        b.hint("A single CopyObject copies at most 5 GB: use a multipart copy (`aws s3 cp` does this itself; SDK code must use UploadPartCopy or a transfer manager).");
        return Some(
            "InvalidRequest: the source object is larger than a single CopyObject can copy (5 GB)"
                .into(),
        );
    }
    None
}

fn account(f: &Facts, sides: &[(Side, String)], permission: bool) -> Account {
    let b_id = f.principal_account().map(str::to_string);
    let a_id = f
        .key_account()
        .filter(|k| Some(*k) != f.principal_account())
        .map(str::to_string);
    if sides.is_empty() {
        return Account {
            side: "none",
            id: None,
            why: if permission {
                "the message does not say which account denied".into()
            } else {
                "not an authorization decision".into()
            },
        };
    }
    let mut whys: Vec<&str> = Vec::new();
    for (_, w) in sides {
        if !whys.contains(&w.as_str()) {
            whys.push(w);
        }
    }
    let why = whys.join("; ");
    let all = |s: Side| sides.iter().all(|(x, _)| *x == s);
    if all(Side::A) {
        Account {
            side: "A",
            id: a_id,
            why,
        }
    } else if all(Side::B) {
        Account {
            side: "B",
            id: b_id,
            why,
        }
    } else {
        Account {
            side: "A or B",
            id: None,
            why,
        }
    }
}

/// Fill in the doctor's flags from what the text names.
fn locate(f: &Facts, sides: &[(Side, String)], links: &[LinkRef], d: &mut DoctorPlan) {
    for u in &f.s3_urls {
        let slot = if u.is_target {
            &mut d.destination
        } else {
            &mut d.source
        };
        if slot.is_none() {
            *slot = Some(format!("s3://{}", u.bucket));
        }
    }
    if let Some(bucket) = f.resource_bucket() {
        let is_dest = f.action.as_deref().is_some_and(|a| {
            let a = a.to_ascii_lowercase();
            a.starts_with("s3:put") || a == "s3:abortmultipartupload"
        });
        let slot = if is_dest {
            &mut d.destination
        } else {
            &mut d.source
        };
        if slot.is_none() {
            *slot = Some(format!("s3://{bucket}"));
        }
    }
    d.role = if d.assume {
        // AssumeRole: the message names the caller; the role is the resource
        f.resource.as_deref().and_then(role_of)
    } else {
        f.principal.as_deref().and_then(role_of)
    };
    if let Some(k) = &f.key_arn
        && d.source_key.is_none()
        && d.destination_key.is_none()
        && !k.contains("...")
    {
        if f.key_account().is_some() && f.key_account() == f.principal_account() {
            d.destination_key = Some(k.clone());
        } else {
            d.source_key = Some(k.clone());
        }
    }
    // A's documents are needed whenever a link of A's side is suspected
    let a_side = ["XA002", "XA003", "XA008", "XA015", "XA016"];
    if sides
        .iter()
        .any(|(s, _)| matches!(s, Side::A | Side::Either))
        || links.iter().any(|l| a_side.contains(&l.id))
    {
        d.source_profile = true;
    }
    if d.region.is_none() {
        d.region = f.region.clone();
    }
}

/// `arn:aws:sts::B:assumed-role/NAME/SESSION` → `arn:aws:iam::B:role/NAME`.
fn role_of(principal: &str) -> Option<String> {
    let a = crate::arn::Arn::parse(principal)?;
    if a.account.len() != 12 || !a.account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match a.service {
        "sts" => {
            let name = a
                .resource
                .strip_prefix("assumed-role/")?
                .split('/')
                .next()?;
            (!name.is_empty() && !name.contains("..."))
                .then(|| format!("arn:aws:iam::{}:role/{name}", a.account))
        }
        "iam" if a.resource.starts_with("role/") && !principal.contains("...") => {
            Some(principal.to_string())
        }
        _ => None,
    }
}

fn render_doctor(d: DoctorPlan, permission: bool, links: &[LinkRef]) -> DoctorRun {
    let mut parts = vec!["xacct doctor".to_string()];
    let mut placeholders = Vec::new();
    let mut slot = |flag: &str, v: &Option<String>, ph: &str, what: &str| match v {
        Some(v) => parts.push(format!("{flag} {v}")),
        None => {
            parts.push(format!("{flag} {ph}"));
            placeholders.push(format!("{}: {what}", ph.trim_start_matches("s3://")));
        }
    };
    slot(
        "--source",
        &d.source,
        "s3://SOURCE_BUCKET",
        "the bucket the copy reads (account A)",
    );
    slot(
        "--destination",
        &d.destination,
        "s3://DESTINATION_BUCKET",
        "the bucket the copy writes (account B)",
    );
    slot(
        "--role-arn",
        &d.role,
        "ROLE_ARN",
        "the role in B that runs the copy (arn:aws:iam::B:role/NAME; add its path if it has one)",
    );
    if d.assume {
        slot(
            "--caller",
            &d.caller,
            "CALLER_ARN",
            "the identity that assumes the role (`aws sts get-caller-identity` where the copy runs)",
        );
    }
    if let Some(k) = &d.source_key {
        parts.push(format!("--source-key {k}"));
    }
    if let Some(k) = &d.destination_key {
        parts.push(format!("--destination-key {k}"));
    }
    if d.session_policy {
        parts.push("--session-policy SESSION_POLICY.json".into());
        placeholders
            .push("SESSION_POLICY.json: the session policy the role is assumed with".into());
    }
    if d.vpce {
        parts.push("--context aws:SourceVpce=VPCE_ID".into());
        placeholders.push("VPCE_ID: the S3 VPC endpoint the copy's requests go through".into());
    }
    if let Some(r) = &d.region {
        parts.push(format!("--region {r}"));
    }
    if d.source_profile {
        parts.push("--source-profile A".into());
        placeholders.push("A: an AWS CLI profile with read access in the source account (to read its bucket and key policy)".into());
    }
    if d.probe_writes {
        parts.push("--probe-writes".into());
    }
    if d.census {
        parts.push("--census".into());
    }
    let mut why = Vec::new();
    let ids: Vec<&str> = links.iter().filter(|l| l.primary).map(|l| l.id).collect();
    if !permission && ids.is_empty() {
        why.push("This is not a permission problem, so no doctor run settles it; this run confirms the rest of the chain is sound.".to_string());
    } else if !ids.is_empty() {
        let others: Vec<&str> = links.iter().filter(|l| !l.primary).map(|l| l.id).collect();
        let mut s = format!("It judges every link at once: {}", ids.join(", "));
        if !others.is_empty() {
            s.push_str(&format!(
                ", and {} that could be the cause",
                others.join(", ")
            ));
        }
        s.push_str(", each with the statement that decides and its fix.");
        why.push(s);
    }
    if d.source_profile {
        why.push("`--source-profile` lets it read A's bucket policy and key policy: from B alone they are unreadable (GetBucketPolicy answers 405 to other accounts, GetKeyPolicy is not cross-account), so the A-side links would stay unknown.".into());
    }
    if d.probe_writes {
        why.push("`--probe-writes` also tests the write path as the role (CreateMultipartUpload, then AbortMultipartUpload).".into());
    }
    if d.caller.is_some() {
        why.push(
            "`--caller` checks the role's trust policy against the identity that assumes it."
                .into(),
        );
    }
    if d.session_policy {
        why.push(
            "A session policy is invisible on the role: give the one the copy is assumed with."
                .into(),
        );
    }
    if d.vpce {
        why.push("With the endpoint id, the doctor judges that endpoint's policy.".into());
    }
    if d.organization {
        why.push("XA012 needs the organization's SCPs and RCPs, which only the management account or a delegated administrator can read: run the doctor with such a profile, or XA012 says skip.".into());
    }
    if d.census {
        why.push("`--census` checks every source object (storage class, encryption, owner), not a sample.".into());
    }
    DoctorRun {
        command: parts.join(" "),
        why: why.join(" "),
        placeholders,
    }
}
