//! The known traps: documents AWS stores without complaint that do not do what
//! they seem to (grammar that AWS rejects is `parse`'s job). Each trap is a
//! `Warning` defect with a permanent kebab-case code, located at the entry
//! that causes it, so `xacct lint` and the doctor report them the same way.
//! Also: guessing what kind of policy a bare file is.

use crate::json::{Node, Span};

use super::model::*;
use super::restype;
use super::service;

/// Every code this module emits, with what it means (a rename shows in review).
pub const TRAP_CODES: [(&str, &str); 3] = [
    (
        "kms-resource-not-key-arn",
        "a KMS key named by alias or key id in a policy `Resource`: KMS authorises key operations against the key ARN only",
    ),
    (
        "action-resource-mismatch",
        "an action listed only with resources of a type it does not apply to (s3:ListBucket on bucket/*, s3:GetObject on the bucket ARN): it never matches",
    ),
    (
        "wildcard-principal-without-condition",
        "`\"Principal\": \"*\"` in an Allow statement without a condition: everyone, in every account, is granted",
    ),
];

/// The traps of a parsed policy.
pub fn traps(p: &Policy) -> Vec<Defect> {
    let mut out = Vec::new();
    for st in &p.statements {
        let kms_flagged = kms_resources(p.kind, st, &mut out);
        action_resources(st, kms_flagged, &mut out);
        wildcard_principal(p.kind, st, &mut out);
    }
    out
}

/// The parser's defects and the traps together, in text order. When a trap
/// explains an entry the parser already rejected (a key id where an ARN is
/// required), the trap's words replace the generic ones and it stays an error.
pub fn check(p: &Policy) -> Vec<Defect> {
    let mut all = p.defects.clone();
    // the first defect at each span (a lookup per trap, not a scan)
    let mut at: std::collections::HashMap<crate::json::Span, usize> =
        std::collections::HashMap::new();
    for (i, d) in all.iter().enumerate() {
        at.entry(d.span).or_insert(i);
    }
    for t in traps(p) {
        match at.get(&t.span).map(|&i| &mut all[i]) {
            Some(d) if d.severity == Severity::Error && d.code == "bad-resource" => {
                d.code = t.code;
                d.message = t.message;
                d.help = t.help;
            }
            _ => all.push(t),
        }
    }
    all.sort_by_key(|d| (d.span.start, d.span.end));
    all
}

fn warn(code: &'static str, span: Span, message: String, help: String) -> Defect {
    Defect {
        severity: Severity::Warning,
        code,
        message,
        help,
        span,
    }
}

fn actions(st: &Statement) -> &[Spanned<String>] {
    match &st.action {
        Some(b) if !b.negated => &b.items,
        _ => &[],
    }
}

fn resources(st: &Statement) -> &[Spanned<String>] {
    match &st.resource {
        Some(b) if !b.negated => &b.items,
        _ => &[],
    }
}

fn is_wildcard(a: &str) -> bool {
    a.contains('*') || a.contains('?')
}

fn service_of(action: &str) -> String {
    action
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_else(|| action.to_string())
}

/// A key id (`1234abcd-12ab-34cd-56ef-1234567890ab`, `mrk-...`) or alias name.
fn looks_like_key_id_or_alias(r: &str) -> bool {
    if r.starts_with("alias/") {
        return true;
    }
    let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    if let Some(m) = r.strip_prefix("mrk-") {
        return hex(m, 32);
    }
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| hex(p, *n))
}

fn is_alias_arn(r: &str) -> bool {
    crate::arn::Arn::parse(r)
        .is_some_and(|a| a.service == "kms" && a.resource.starts_with("alias/"))
}

/// KMS key operations in a statement's `Resource` must name key ARNs.
/// Returns whether it flagged anything (so the generic mismatch stays quiet).
fn kms_resources(kind: PolicyKind, st: &Statement, out: &mut Vec<Defect>) -> bool {
    if matches!(
        kind,
        PolicyKind::Key | PolicyKind::Bucket | PolicyKind::Trust
    ) {
        return false;
    }
    // key operations: kms actions on keys that do not also take an alias
    // (UpdateAlias names both), kms wildcards, or `*`
    let key_ops: Vec<&str> = actions(st)
        .iter()
        .map(|a| a.value.as_str())
        .filter(|a| {
            *a == "*"
                || service_of(a) == "kms"
                    && (is_wildcard(a)
                        || restype::action_can_apply(a, "arn:aws:kms:r:111111111111:key/k")
                            == Some(true)
                            && restype::action_can_apply(a, "arn:aws:kms:r:111111111111:alias/a")
                                == Some(false))
        })
        .collect();
    if key_ops.is_empty() {
        return false;
    }
    let mut flagged = false;
    for r in resources(st) {
        let v = r.value.as_str();
        let (what, effect) = if is_alias_arn(v) {
            ("an alias ARN", "so this entry never matches")
        } else if v.starts_with("alias/") {
            (
                "an alias name",
                "and IAM rejects a `Resource` that is not an ARN",
            )
        } else if looks_like_key_id_or_alias(v) {
            (
                "a key id",
                "and IAM rejects a `Resource` that is not an ARN",
            )
        } else {
            continue;
        };
        flagged = true;
        out.push(warn(
            "kms-resource-not-key-arn",
            r.span,
            format!(
                "`{v}` is {what}: KMS matches {} against the key ARN only, {effect}",
                key_ops.join(", ")
            ),
            "use the key ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (aws kms describe-key --key-id alias/NAME shows it); to control access by alias, use the kms:ResourceAliases condition".into(),
        ));
    }
    flagged
}

/// More `Resource` entries than the largest document AWS stores (a 32 KB key
/// policy) can hold: such a document is refused for its size already, and
/// judging every entry of a hostile one would only cost time.
const MAX_RESOURCE_ENTRIES: usize = 2_048;

/// An action granted (or denied) only on resources it cannot apply to.
fn action_resources(st: &Statement, skip_kms: bool, out: &mut Vec<Defect>) {
    let res = resources(st);
    if res.is_empty() || res.len() > MAX_RESOURCE_ENTRIES {
        return;
    }
    // the resource types an entry can name, per service, worked out once
    let mut types: std::collections::HashMap<(String, usize), Option<Vec<&'static str>>> =
        std::collections::HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for a in actions(st) {
        let name = a.value.as_str();
        if name == "*" || is_wildcard(name) || skip_kms && service_of(name) == "kms" {
            continue;
        }
        // an action listed twice is one trap, reported at its first place
        if !seen.insert(name.to_ascii_lowercase()) {
            continue;
        }
        let svc = service_of(name);
        // unknown action or service (the parser reports those), or one entry
        // it applies to: say nothing
        if res.iter().enumerate().any(|(i, r)| {
            restype::action_can_apply_given(name, &r.value, || {
                types
                    .entry((svc.clone(), i))
                    .or_insert_with(|| restype::resource_types(&svc, &r.value))
                    .clone()
            }) != Some(false)
        }) {
            continue;
        }
        let Some((canonical, info)) = service::action(name) else {
            continue;
        };
        let mut listed: Vec<String> = res
            .iter()
            .take(5)
            .map(|r| format!("`{}`", r.value))
            .collect();
        if res.len() > 5 {
            listed.push(format!("{} more", res.len() - 5));
        }
        let verb = match st.effect {
            Some(Effect::Deny) => "denied",
            _ => "granted",
        };
        let (message, help) = if info.resources.is_empty() {
            (
                format!(
                    "`{name}` takes no resource: AWS authorises it against \"*\", so being {verb} only on {} it never matches",
                    listed.join(", ")
                ),
                format!("put `{svc}:{canonical}` in a statement with \"Resource\": \"*\""),
            )
        } else {
            let mut types: Vec<&str> = info.resources.iter().map(|r| r.kind.as_str()).collect();
            // the S3 access-point forms last: bucket / object is what people mean
            types.sort_by_key(|t| t.starts_with("accesspoint"));
            let example = suggestion(&svc, &types, res);
            (
                format!(
                    "`{name}` applies to {} resources, but it is {verb} only on {}: the statement never matches it",
                    types
                        .iter()
                        .map(|t| type_name(t))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    listed.join(", ")
                ),
                match example {
                    Some(e) => format!(
                        "add \"{e}\" to `Resource` (or move `{svc}:{canonical}` to a statement on that ARN)"
                    ),
                    None => format!("name a resource of type {}", types.join(" or ")),
                },
            )
        };
        out.push(warn("action-resource-mismatch", a.span, message, help));
    }
}

fn type_name(t: &str) -> &str {
    match t {
        "accesspoint" => "access point",
        "accesspointobject" => "access point object",
        t => t,
    }
}

/// The ARN the action needs, built from the statement's own S3 resources.
fn suggestion(svc: &str, types: &[&str], res: &[Spanned<String>]) -> Option<String> {
    if svc != "s3" {
        return None;
    }
    let bucket = res.iter().find_map(|r| {
        let rest = r.value.strip_prefix("arn:aws:s3:::")?;
        let b = rest.split('/').next().unwrap_or(rest);
        (!b.is_empty()).then(|| b.to_string())
    })?;
    if types.contains(&"bucket") {
        Some(format!("arn:aws:s3:::{bucket}"))
    } else if types.contains(&"object") {
        Some(format!("arn:aws:s3:::{bucket}/*"))
    } else {
        None
    }
}

fn wildcard_principal(kind: PolicyKind, st: &Statement, out: &mut Vec<Defect>) {
    let Some(p) = &st.principal else {
        return;
    };
    if p.negated || st.effect != Some(Effect::Allow) || !st.conditions.is_empty() {
        return;
    }
    let span = if p.any {
        p.span
    } else {
        match p
            .entries
            .iter()
            .find(|e| e.kind == PrincipalType::Aws && e.value == "*")
        {
            Some(e) => e.span,
            None => return,
        }
    };
    let consequence = match kind {
        PolicyKind::Bucket => "every AWS account, and anonymous requests, get these actions",
        PolicyKind::Trust => "any principal in any AWS account can assume this role",
        PolicyKind::Key => {
            "any principal in any AWS account whose own IAM policies allow it can use this key"
        }
        _ => "any principal in any AWS account gets these actions",
    };
    out.push(warn(
        "wildcard-principal-without-condition",
        span,
        format!("`\"*\"` as the principal of an Allow with no condition: {consequence}"),
        "name the principal (e.g. \"Principal\": {\"AWS\": \"arn:aws:iam::ACCOUNT:role/NAME\"}), or keep \"*\" and add a condition on aws:PrincipalArn, aws:PrincipalAccount or aws:PrincipalOrgID".into(),
    ));
}

/// What kind of policy a file holds, and why xacct thinks so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    pub kind: PolicyKind,
    /// For bucket policies: the bucket its resources name.
    pub bucket: Option<String>,
    pub reason: &'static str,
}

fn statements(root: &Node) -> Vec<&Node> {
    match root.get("Statement") {
        Some(n) if n.as_object().is_some() => vec![n],
        Some(n) => n.as_array().map(|a| a.iter().collect()).unwrap_or_default(),
        None => Vec::new(),
    }
}

fn strings<'n>(st: &'n Node, keys: &[&str]) -> Vec<&'n str> {
    let mut out = Vec::new();
    for k in keys {
        match st.get(k) {
            Some(n) if n.as_str().is_some() => out.extend(n.as_str()),
            Some(n) => out.extend(n.as_array().unwrap_or(&[]).iter().filter_map(Node::as_str)),
            None => {}
        }
    }
    out
}

/// The bucket named by the first S3 resource of a policy document.
pub fn bucket_of(root: &Node) -> Option<String> {
    statements(root).into_iter().find_map(|st| {
        strings(st, &["Resource", "NotResource"])
            .into_iter()
            .find_map(|r| {
                let rest = r.strip_prefix("arn:aws:s3:::")?;
                let b = rest.split('/').next().unwrap_or(rest);
                (!b.is_empty() && !b.contains('*')).then(|| b.to_string())
            })
    })
}

/// Guess the kind of a policy from its statements: no `Principal` → identity;
/// `sts:AssumeRole*` with one → trust; KMS actions → key; S3 → bucket.
pub fn guess_kind(root: &Node) -> Guess {
    let sts = statements(root);
    let has_principal = sts
        .iter()
        .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
    if !has_principal {
        return Guess {
            kind: PolicyKind::Identity,
            bucket: None,
            reason: "no statement has a Principal",
        };
    }
    let acts: Vec<String> = sts
        .iter()
        .flat_map(|s| strings(s, &["Action", "NotAction"]))
        .map(str::to_ascii_lowercase)
        .collect();
    let res: Vec<&str> = sts
        .iter()
        .flat_map(|s| strings(s, &["Resource", "NotResource"]))
        .collect();
    if acts.iter().any(|a| {
        a.starts_with("sts:assumerole") || a == "sts:tagsession" || a == "sts:setsourceidentity"
    }) {
        return Guess {
            kind: PolicyKind::Trust,
            bucket: None,
            reason: "it has a Principal and sts:AssumeRole",
        };
    }
    let s3_resources = res.iter().any(|r| r.starts_with("arn:aws:s3:::"));
    if acts.iter().any(|a| a.starts_with("kms:")) && !s3_resources {
        return Guess {
            kind: PolicyKind::Key,
            bucket: None,
            reason: "it has a Principal and kms: actions",
        };
    }
    if s3_resources || acts.iter().any(|a| a.starts_with("s3:")) {
        return Guess {
            kind: PolicyKind::Bucket,
            bucket: bucket_of(root),
            reason: "it has a Principal and S3 resources",
        };
    }
    Guess {
        kind: PolicyKind::Resource,
        bucket: None,
        reason: "it has a Principal but names no S3, KMS or STS action",
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::{ParseOptions, parse_text};
    use super::*;

    fn codes(text: &str, kind: PolicyKind) -> Vec<&'static str> {
        let p = parse_text("t", text, &ParseOptions::new(kind));
        check(&p).iter().map(|d| d.code).collect()
    }

    #[test]
    fn trap_codes_are_permanent() {
        let list: Vec<&str> = TRAP_CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            list,
            vec![
                "kms-resource-not-key-arn",
                "action-resource-mismatch",
                "wildcard-principal-without-condition"
            ]
        );
    }

    #[test]
    fn alias_arn_and_key_id_in_identity_policy() {
        let t = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":["arn:aws:kms:us-west-2:111111111111:alias/alice-data","1234abcd-12ab-34cd-56ef-1234567890ab"]}]}"#;
        let p = parse_text("t", t, &ParseOptions::new(PolicyKind::Identity));
        let all = check(&p);
        let c: Vec<_> = all.iter().map(|d| (d.code, d.severity)).collect();
        assert_eq!(
            c,
            vec![
                ("kms-resource-not-key-arn", Severity::Warning),
                ("kms-resource-not-key-arn", Severity::Error)
            ]
        );
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:CreateAlias"],"Resource":"arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}]}"#;
        assert!(codes(ok, PolicyKind::Identity).is_empty());
        let alias_admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:UpdateAlias","Resource":"arn:aws:kms:us-west-2:111111111111:alias/x"}]}"#;
        assert!(codes(alias_admin, PolicyKind::Identity).is_empty());
    }

    #[test]
    fn list_bucket_on_objects_and_get_object_on_bucket() {
        let t = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"arn:aws:s3:::alice-data/*"},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-data"},
            {"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
            {"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"arn:aws:s3:::b"}]}"#;
        let p = parse_text("t", t, &ParseOptions::new(PolicyKind::Identity));
        let all = check(&p);
        let found: Vec<(&str, &str)> = all
            .iter()
            .map(|d| (d.code, &t[d.span.start..d.span.end]))
            .collect();
        assert_eq!(
            found,
            vec![
                ("action-resource-mismatch", "\"s3:ListBucket\""),
                ("action-resource-mismatch", "\"s3:GetObject\""),
                ("action-resource-mismatch", "\"s3:ListAllMyBuckets\""),
            ]
        );
        assert!(all[0].help.contains("arn:aws:s3:::alice-data\""));
        assert!(all[1].help.contains("arn:aws:s3:::alice-data/*"));
    }

    #[test]
    fn wildcard_principal_needs_a_condition() {
        let t = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}},
            {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}"#;
        let p = parse_text("t", t, &ParseOptions::bucket("b"));
        let c: Vec<_> = check(&p).iter().map(|d| d.code).collect();
        assert_eq!(c, vec!["wildcard-principal-without-condition"]);
    }

    #[test]
    fn guesses() {
        let g = |t: &str| guess_kind(&crate::json::parse(t).unwrap());
        assert_eq!(
            g(r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#).kind,
            PolicyKind::Identity
        );
        assert_eq!(
            g(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"x"},"Action":"kms:*","Resource":"*"}]}"#).kind,
            PolicyKind::Key
        );
        let b = g(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-data/*"}}"#,
        );
        assert_eq!(
            (b.kind, b.bucket.as_deref()),
            (PolicyKind::Bucket, Some("alice-data"))
        );
        assert_eq!(
            g(r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#).kind,
            PolicyKind::Trust
        );
    }
}
