//! From pasted error text to [`Facts`]: the error code, the operation, the
//! principal, action, resource and policy type of a detailed AccessDenied, and
//! the telltale phrases of the other failures. Tolerant by design: people paste
//! fragments, CLI output, SDK exceptions and XML bodies, wrapped over lines.

use std::collections::BTreeSet;

use serde::Serialize;

/// The policy types a detailed AccessDenied names are the engine's.
pub use crate::policy::PolicyType;

/// How AWS names a policy type in its messages.
pub fn phrase(t: PolicyType) -> &'static str {
    match t {
        PolicyType::Identity => "identity-based policy",
        PolicyType::Resource => "resource-based policy",
        PolicyType::Boundary => "permissions boundary",
        PolicyType::Session => "session policy",
        PolicyType::Scp => "service control policy",
        PolicyType::Rcp => "resource control policy",
        PolicyType::Endpoint => "VPC endpoint policy",
    }
}

/// Phrases as AWS writes them, in the order they are tried (longest first
/// where one is a prefix of another).
const POLICY_PHRASES: [(&str, PolicyType); 7] = [
    ("identity-based polic", PolicyType::Identity),
    ("resource-based polic", PolicyType::Resource),
    ("permissions boundar", PolicyType::Boundary),
    ("session polic", PolicyType::Session),
    ("service control polic", PolicyType::Scp),
    ("resource control polic", PolicyType::Rcp),
    ("vpc endpoint polic", PolicyType::Endpoint),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deny {
    /// `because no ... policy allows`: nothing allowed it.
    Implicit,
    /// `with an explicit deny in ...`.
    Explicit,
}

/// Telltale phrases and codes, each one failure shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Marker {
    /// `Access Denied` with nothing more.
    AccessDenied,
    /// `Forbidden` / bare 403 (a HEAD request: no body).
    Forbidden,
    /// S3: "The ciphertext refers to a customer master key that does not exist...".
    Ciphertext,
    /// KMS: "... because the resource does not exist in this Region, no
    /// resource-based policies allow access, or ... explicitly denies access".
    KmsNotInRegionOrNoPolicy,
    KeyDisabled,
    KeyPendingDeletion,
    KeyPendingImport,
    KeyUnavailable,
    /// `KMSInvalidStateException` without saying which state.
    KeyInvalidState,
    KeyNotFound,
    KeyUsage,
    Throttled,
    Archived,
    AclNotSupported,
    AllAccessDisabled,
    ExpiredToken,
    SseC,
    WrongRegion,
    SignatureMismatch,
    BadCredentials,
    ClockSkew,
    SigV4Required,
    MalformedBucketPolicy,
    MalformedKeyPolicy,
    MalformedIamPolicy,
    NoSuchKey,
    NoSuchBucket,
    CopyTooLarge,
}

/// What the text says, as far as it can be read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `on this resource`: the service did not name it (KMS through S3).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resource_unnamed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<Deny>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<PolicyType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_arn: Option<String>,
    /// `s3://` locations in the text (CLI lines: `copy failed: s3://a/k to s3://b/k`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub s3_urls: Vec<S3Url>,
    /// The region S3 expects (AuthorizationHeaderMalformed, endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub markers: BTreeSet<Marker>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct S3Url {
    pub url: String,
    pub bucket: String,
    /// Written after ` to ` (the destination of a CLI transfer).
    pub is_target: bool,
}

impl Facts {
    pub fn has(&self, m: Marker) -> bool {
        self.markers.contains(&m)
    }
    /// The account of the principal the message names.
    pub fn principal_account(&self) -> Option<&str> {
        let p = self.principal.as_deref()?;
        crate::arn::account(p).filter(|a| is_account_id(a))
    }
    pub fn key_account(&self) -> Option<&str> {
        let k = self.key_arn.as_deref()?;
        crate::arn::account(k).filter(|a| is_account_id(a))
    }
    /// The bucket of an S3 resource ARN in the message.
    pub fn resource_bucket(&self) -> Option<&str> {
        let r = self.resource.as_deref()?;
        let rest = r.strip_prefix("arn:aws:s3:::")?;
        let b = rest.split('/').next().unwrap_or(rest);
        (!b.is_empty() && !b.contains("...") && !b.contains('*')).then_some(b)
    }
    pub fn is_detailed(&self) -> bool {
        self.action.is_some() || self.policy_type.is_some()
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Collapse whitespace (messages arrive wrapped) and typographic ellipses.
fn normalize(text: &str) -> String {
    let t = text.replace('\u{2026}', "...");
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Case-insensitive search that returns a byte offset into `text` (ASCII
/// lowercasing keeps offsets).
fn find_ci(lower: &str, needle: &str) -> Option<usize> {
    lower.find(&needle.to_ascii_lowercase())
}

/// The token right after `needle`: up to the next space, without wrapping
/// quotes or trailing punctuation.
fn token_after<'t>(text: &'t str, lower: &str, needle: &str) -> Option<&'t str> {
    let at = find_ci(lower, needle)? + needle.len();
    token_at(text, at)
}

fn token_at(text: &str, at: usize) -> Option<&str> {
    let rest = text.get(at..)?.trim_start();
    let end = rest.find(' ').unwrap_or(rest.len());
    let tok = clean(&rest[..end]);
    (!tok.is_empty()).then_some(tok)
}

fn clean(tok: &str) -> &str {
    tok.trim_start_matches(['"', '\'', '`', '(', '[', '<'])
        .trim_end_matches(['"', '\'', '`', ')', ']', '>', ',', ';', '.', ':'])
}

/// Error codes xacct knows, as they appear in SDK and CLI output.
const CODES: [&str; 40] = [
    "AccessDenied",
    "AccessDeniedException",
    "KMS.DisabledException",
    "DisabledException",
    "KMS.KMSInvalidStateException",
    "KMSInvalidStateException",
    "KMS.NotFoundException",
    "NotFoundException",
    "KMS.InvalidKeyUsageException",
    "InvalidKeyUsageException",
    "KMS.ThrottlingException",
    "ThrottlingException",
    "SlowDown",
    "InvalidObjectState",
    "ObjectNotInActiveTierError",
    "AccessControlListNotSupported",
    "AllAccessDisabled",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidRequest",
    "InvalidArgument",
    "AuthorizationHeaderMalformed",
    "PermanentRedirect",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "RequestTimeTooSkewed",
    "MalformedPolicy",
    "MalformedPolicyDocumentException",
    "MalformedPolicyDocument",
    "NoSuchKey",
    "NoSuchBucket",
    "Forbidden",
    "InvalidToken",
    "KMS.AccessDeniedException",
    "KMS.KeyUnavailableException",
    "KeyUnavailableException",
    "IllegalLocationConstraintException",
    "403",
    "400",
];

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '_'
}

/// The first known code standing as a word of its own.
fn known_code(text: &str) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for code in CODES {
        if code.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let mut from = 0;
        while let Some(p) = text[from..].find(code) {
            let at = from + p;
            let before = text[..at].chars().next_back();
            let after = text[at + code.len()..].chars().next();
            if !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char) {
                // prefer the earliest; at the same place, the longest
                if best.is_none_or(|(b, c)| at < b || at == b && code.len() > c.len()) {
                    best = Some((at, code));
                }
                break;
            }
            from = at + code.len();
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn word_between<'t>(text: &'t str, lower: &str, before: &str, after: &str) -> Option<&'t str> {
    let start = find_ci(lower, before)? + before.len();
    let len = lower[start..].find(&after.to_ascii_lowercase())?;
    let w = text[start..start + len].trim();
    (!w.is_empty() && !w.contains(' ')).then_some(w)
}

/// Read everything xacct can use from pasted error text.
pub fn facts(raw: &str) -> Facts {
    let text = normalize(raw);
    let lower = text.to_ascii_lowercase();
    let mut f = Facts::default();

    // the error code: CLI wrapper, XML body, Java and Go SDK forms, bare word
    f.code = word_between(&text, &lower, "an error occurred (", ")")
        .or_else(|| word_between(&text, &lower, "<code>", "</code>"))
        .or_else(|| token_after(&text, &lower, "error code: "))
        .or_else(|| token_after(&text, &lower, "api error "))
        .or_else(|| token_after(&text, &lower, "\"code\": "))
        .map(str::to_string)
        .or_else(|| known_code(&text));

    // the operation: `when calling the X operation`, Go's `operation error S3: X,`
    f.operation = word_between(&text, &lower, "when calling the ", " operation")
        .or_else(|| {
            let at = find_ci(&lower, "operation error ")?;
            let rest = &text[at..];
            let colon = rest.find(": ")?;
            token_at(rest, colon + 2)
        })
        .map(str::to_string);

    f.http_status = http_status(&f, &text, &lower);

    // the detailed AccessDenied: User: P is not authorized to perform: A on resource: R because ...
    f.principal = token_after(&text, &lower, "user: ").map(str::to_string);
    if let Some(at) = find_ci(&lower, "not authorized to perform") {
        let rest = &text[at..];
        let rest_l = &lower[at..];
        if let Some(colon) = rest.find(':') {
            f.action = token_at(rest, colon + 1)
                .filter(|a| a.contains(':'))
                .map(str::to_string);
        }
        if let Some(p) = rest_l.find(" on resource:") {
            f.resource = token_at(rest, p + " on resource:".len()).map(str::to_string);
        } else if rest_l.contains(" on this resource") {
            f.resource_unnamed = true;
        }
    }
    if f.action.is_none() {
        // fragments: `... because no identity-based policy allows the s3:ListBucket action`,
        // `kms:Decrypt on this resource because ...`
        f.action = tokens(&text).find(|t| is_action(t)).map(str::to_string);
        if lower.contains(" on this resource") {
            f.resource_unnamed = true;
        }
    }
    if let Some(at) = find_ci(&lower, "explicit deny in ") {
        f.deny = Some(Deny::Explicit);
        policy_type_at(&mut f, &text, &lower, at + "explicit deny in ".len());
    } else if let Some(at) = find_ci(&lower, "because no ") {
        f.deny = Some(Deny::Implicit);
        policy_type_at(&mut f, &text, &lower, at + "because no ".len());
    }
    if f.policy_arn.is_none() {
        f.policy_arn = tokens(&text)
            .find(|t| t.starts_with("arn:aws:organizations::"))
            .map(str::to_string);
    }

    f.key_arn = tokens(&text)
        .find(|t| {
            crate::arn::Arn::parse(t).is_some_and(|a| a.service == "kms")
                && f.principal.as_deref() != Some(t)
        })
        .map(str::to_string)
        .or_else(|| {
            f.resource
                .as_ref()
                .filter(|r| r.starts_with("arn:aws:kms:"))
                .cloned()
        });
    f.s3_urls = s3_urls(&text);
    f.region = region(&text, &lower);
    markers(&mut f, &lower);
    f
}

/// `s3:GetObject`, `kms:Decrypt`, `sts:AssumeRole`: an action of a service
/// xacct knows, written out.
fn is_action(t: &str) -> bool {
    t.split_once(':').is_some_and(|(svc, name)| {
        matches!(svc, "s3" | "kms" | "sts" | "iam")
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', '\'', '"', '`', '(', ')', '[', ']', '<', '>', ','])
        .map(clean)
        .filter(|t| !t.is_empty())
}

fn policy_type_at(f: &mut Facts, text: &str, lower: &str, at: usize) {
    let rest_l = lower[at..]
        .trim_start_matches("an ")
        .trim_start_matches("a ");
    let skipped = lower.len() - at - rest_l.len();
    for (phrase, ty) in POLICY_PHRASES {
        if rest_l.starts_with(phrase) {
            f.policy_type = Some(ty);
            // the denying policy's ARN follows a colon: `... policy: arn:aws:...`
            let after = at + skipped + phrase.len();
            let tail = &text[after..];
            let word_end = tail.find([' ', ':']).unwrap_or(tail.len());
            if tail[word_end..].starts_with(": arn:")
                && let Some(arn) = token_at(tail, word_end + 1)
            {
                f.policy_arn = Some(arn.to_string());
            }
            return;
        }
    }
}

fn http_status(f: &Facts, text: &str, lower: &str) -> Option<u16> {
    if let Some(c) = &f.code
        && let Ok(n) = c.parse::<u16>()
    {
        return Some(n);
    }
    for needle in [
        "status code: ",
        "statuscode: ",
        "http/1.1 ",
        "http ",
        "status: ",
    ] {
        if let Some(t) = token_after(text, lower, needle)
            && let Ok(n) = t.parse::<u16>()
            && (100..600).contains(&n)
        {
            return Some(n);
        }
    }
    if lower.contains("403 forbidden") || lower.contains("(403)") {
        return Some(403);
    }
    if lower.contains("400 bad request") {
        return Some(400);
    }
    None
}

fn s3_urls(text: &str) -> Vec<S3Url> {
    let mut out = Vec::new();
    let words: Vec<&str> = text.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        let w = clean(w);
        let Some(rest) = w.strip_prefix("s3://") else {
            continue;
        };
        let bucket = rest.split('/').next().unwrap_or(rest);
        if bucket.is_empty() || bucket.contains("...") {
            continue;
        }
        out.push(S3Url {
            url: w.to_string(),
            bucket: bucket.to_string(),
            is_target: i > 0 && words[i - 1].eq_ignore_ascii_case("to"),
        });
    }
    out
}

fn region(text: &str, lower: &str) -> Option<String> {
    let valid = |r: &str| {
        let r = clean(r);
        (r.len() >= 9
            && r.matches('-').count() >= 2
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        .then(|| r.to_string())
    };
    if let Some(r) = token_after(text, lower, "expecting ").and_then(valid) {
        return Some(r);
    }
    // an endpoint such as alice-data.s3.us-west-2.amazonaws.com
    for t in tokens(text) {
        if let Some(p) = t.find(".s3.").or_else(|| t.find(".s3-")).map(|p| p + 4)
            && let Some(end) = t[p..].find(".amazonaws.com")
            && let Some(r) = valid(&t[p..p + end])
        {
            return Some(r);
        }
    }
    None
}

fn markers(f: &mut Facts, lower: &str) {
    let code = f.code.as_deref().unwrap_or("").to_ascii_lowercase();
    let code = code.trim_start_matches("kms.");
    let has = |s: &str| lower.contains(s);
    let mut m = BTreeSet::new();
    let is_code = |c: &str| code == c.to_ascii_lowercase();

    if has("access denied") || is_code("AccessDenied") && !f.is_detailed() {
        m.insert(Marker::AccessDenied);
    }
    if has("forbidden") || f.http_status == Some(403) && lower.trim().len() < 40 {
        m.insert(Marker::Forbidden);
    }
    if has("ciphertext refers to a") {
        m.insert(Marker::Ciphertext);
    }
    if has("does not exist in this region") && has("resource-based polic") {
        m.insert(Marker::KmsNotInRegionOrNoPolicy);
    }
    if is_code("DisabledException") || has("disabledexception") || has(" is disabled") {
        m.insert(Marker::KeyDisabled);
    }
    if has("pending deletion") {
        m.insert(Marker::KeyPendingDeletion);
    }
    if has("pending import") {
        m.insert(Marker::KeyPendingImport);
    }
    if has("is unavailable") || has("keyunavailableexception") {
        m.insert(Marker::KeyUnavailable);
    }
    if has("kmsinvalidstateexception") {
        m.insert(Marker::KeyInvalidState);
    }
    if is_code("NotFoundException")
        || has("notfoundexception")
        || f.key_arn.is_some()
            && has("does not exist")
            && !has("ciphertext refers")
            && !has("does not exist in this region")
    {
        m.insert(Marker::KeyNotFound);
    }
    if has("invalidkeyusage") || has("keyusage") {
        m.insert(Marker::KeyUsage);
    }
    if has("throttlingexception")
        || has("rate at which you may call kms")
        || has("slowdown")
        || has("reduce your request rate")
        || has("rate exceeded")
    {
        m.insert(Marker::Throttled);
    }
    if has("invalidobjectstate")
        || has("objectnotinactivetiererror")
        || has("not in the active tier")
        || has("operation is not valid for the object's storage class")
        || has("unable to perform copy operations on glacier")
        || has("unable to perform download operations on glacier")
        || has("is of storage class glacier")
        || has("is of storage class deep_archive")
    {
        m.insert(Marker::Archived);
    }
    if has("accesscontrollistnotsupported") || has("does not allow acls") {
        m.insert(Marker::AclNotSupported);
    }
    if has("allaccessdisabled") || has("all access to this") {
        m.insert(Marker::AllAccessDisabled);
    }
    if has("expiredtoken")
        || has("token has expired")
        || has("token included in the request is expired")
    {
        m.insert(Marker::ExpiredToken);
    }
    if has("stored using a form of server side encryption")
        || has("sse-c") && (has("invalidrequest") || has("accessdenied"))
    {
        m.insert(Marker::SseC);
    }
    if has("authorizationheadermalformed")
        || has("permanentredirect")
        || has("must be addressed using the specified endpoint")
        || has("is wrong; expecting")
        || has("illegallocationconstraint")
    {
        m.insert(Marker::WrongRegion);
    }
    if has("signaturedoesnotmatch") || has("signature we calculated does not match") {
        m.insert(Marker::SignatureMismatch);
    }
    if has("invalidaccesskeyid")
        || has("invalidclienttokenid")
        || has("unable to locate credentials")
        || has("security token included in the request is invalid")
    {
        m.insert(Marker::BadCredentials);
    }
    if has("requesttimetooskewed") {
        m.insert(Marker::ClockSkew);
    }
    if has("require aws signature version 4") || has("requires aws signature version 4") {
        m.insert(Marker::SigV4Required);
    }
    if has("malformedpolicydocumentexception") {
        m.insert(Marker::MalformedKeyPolicy);
    } else if has("malformedpolicydocument") {
        m.insert(Marker::MalformedIamPolicy);
    } else if has("malformedpolicy") || has("invalid principal in policy") {
        m.insert(Marker::MalformedBucketPolicy);
    }
    if has("nosuchkey") || has("the specified key does not exist") {
        m.insert(Marker::NoSuchKey);
    }
    if has("nosuchbucket") || has("the specified bucket does not exist") {
        m.insert(Marker::NoSuchBucket);
    }
    if has("larger than the maximum allowable size") {
        m.insert(Marker::CopyTooLarge);
    }
    f.markers = m;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detailed_message_parts() {
        let f = facts(
            "An error occurred (AccessDenied) when calling the CopyObject operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/s1 is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::bob-staging-bucket/a.csv\" with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-abc/service_control_policy/p-123",
        );
        assert_eq!(f.code.as_deref(), Some("AccessDenied"));
        assert_eq!(f.operation.as_deref(), Some("CopyObject"));
        assert_eq!(
            f.principal.as_deref(),
            Some("arn:aws:sts::222222222222:assumed-role/BobCopyRole/s1")
        );
        assert_eq!(f.action.as_deref(), Some("s3:PutObject"));
        assert_eq!(
            f.resource.as_deref(),
            Some("arn:aws:s3:::bob-staging-bucket/a.csv")
        );
        assert_eq!(f.resource_bucket(), Some("bob-staging-bucket"));
        assert_eq!(f.deny, Some(Deny::Explicit));
        assert_eq!(f.policy_type, Some(PolicyType::Scp));
        assert_eq!(
            f.policy_arn.as_deref(),
            Some("arn:aws:organizations::987654321098:policy/o-abc/service_control_policy/p-123")
        );
        assert_eq!(f.principal_account(), Some("222222222222"));
    }

    #[test]
    fn sdk_forms() {
        let go = facts(
            "operation error S3: HeadObject, https response error StatusCode: 403, RequestID: X, HostID: Y, api error Forbidden: Forbidden",
        );
        assert_eq!(go.operation.as_deref(), Some("HeadObject"));
        assert_eq!(go.http_status, Some(403));
        let java = facts(
            "com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 1)",
        );
        assert_eq!(java.code.as_deref(), Some("AccessDenied"));
        assert!(java.has(Marker::AccessDenied));
        let xml = facts("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
        assert_eq!(xml.code.as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn cli_transfer_lines_name_both_buckets() {
        let f = facts(
            "copy failed: s3://alice-data/a.csv to s3://bob-staging-bucket/a.csv An error occurred (AccessDenied) when calling the CopyObject operation: Access Denied",
        );
        assert_eq!(f.s3_urls.len(), 2);
        assert_eq!(
            (f.s3_urls[0].bucket.as_str(), f.s3_urls[0].is_target),
            ("alice-data", false)
        );
        assert_eq!(
            (f.s3_urls[1].bucket.as_str(), f.s3_urls[1].is_target),
            ("bob-staging-bucket", true)
        );
    }

    #[test]
    fn garbage_never_panics() {
        for t in [
            "",
            "User:",
            "not authorized to perform",
            "because no ",
            "explicit deny in ",
            "An error occurred (",
            "when calling the ",
            "<code>",
            "s3://",
            "expecting '",
            "\u{2026}\u{2019}\u{0}",
            "User: \u{2019} is not authorized to perform: \u{1F600} on resource: \u{2026}",
        ] {
            let _ = facts(t);
        }
    }
}
