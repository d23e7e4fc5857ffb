//! Which resource types (from the Service Authorization Reference) a policy's
//! `Resource` entry can name: `arn:aws:s3:::b/*` can only be an `object`,
//! `arn:aws:s3:::b` only a `bucket`, `arn:aws:kms:r:1:alias/x` only an `alias`.
//!
//! Both the entry (with `*`, `?` and policy variables) and the reference's ARN
//! template (with `${Placeholder}` parts) are small regular patterns; an entry
//! can name a type exactly when the two patterns share at least one string.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::service;

/// What one position of a pattern accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Lit(char),
    /// Any character.
    Any,
    /// Any character but `/` (a template segment such as `${BucketName}`).
    NotSlash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tok {
    class: Class,
    /// Zero or more repetitions instead of exactly one.
    many: bool,
}

fn one(class: Class) -> Tok {
    Tok { class, many: false }
}
fn many(class: Class) -> Tok {
    Tok { class, many: true }
}

/// A policy `Resource` entry: `*` any run, `?` one character, `${...}` a
/// variable (any run: its value is not known here).
fn entry_tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${")
            && let Some(close) = after.find('}')
        {
            out.push(many(Class::Any));
            rest = &after[close + 1..];
            continue;
        }
        let mut chars = rest.chars();
        let c = chars.next().unwrap_or('*');
        out.push(match c {
            '*' => many(Class::Any),
            '?' => one(Class::Any),
            c => one(Class::Lit(c)),
        });
        rest = chars.as_str();
    }
    out
}

/// A template from the reference: `${Partition}`, `${Region}`, `${Account}`
/// and name placeholders are one or more non-`/` characters; object names and
/// `...WithPath` placeholders may hold `/`.
fn template_tokens(text: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${")
            && let Some(close) = after.find('}')
        {
            let name = &after[..close];
            let class = if name.contains("Object") || name.contains("Path") || name == "EntityPath"
            {
                Class::Any
            } else {
                Class::NotSlash
            };
            out.push(one(class));
            out.push(many(class));
            rest = &after[close + 1..];
            continue;
        }
        let mut chars = rest.chars();
        let c = chars.next().unwrap_or(':');
        out.push(one(Class::Lit(c)));
        rest = chars.as_str();
    }
    out
}

fn classes_meet(a: Class, b: Class) -> bool {
    match (a, b) {
        (Class::Lit(x), Class::Lit(y)) => x == y,
        (Class::Lit(c), Class::NotSlash) | (Class::NotSlash, Class::Lit(c)) => c != '/',
        _ => true,
    }
}

/// Do two patterns accept at least one common string? A search over pairs of
/// positions (the product of the two automata).
fn intersect(a: &[Tok], b: &[Tok]) -> bool {
    // a dense table of visited pairs: entries are at most MAX_ARN long and
    // templates short, and this runs once per Resource entry and type
    let width = b.len() + 1;
    let mut seen = vec![false; (a.len() + 1) * width];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        let at = i * width + j;
        if seen[at] {
            continue;
        }
        seen[at] = true;
        if i == a.len() && j == b.len() {
            return true;
        }
        // skip a `many` token (zero repetitions)
        if i < a.len() && a[i].many {
            stack.push((i + 1, j));
        }
        if j < b.len() && b[j].many {
            stack.push((i, j + 1));
        }
        // consume one character both accept
        if i < a.len() && j < b.len() && classes_meet(a[i].class, b[j].class) {
            let ni = if a[i].many { i } else { i + 1 };
            let nj = if b[j].many { j } else { j + 1 };
            if (ni, nj) != (i, j) {
                stack.push((ni, nj));
            } else {
                // both loop: one shared character keeps both where they are;
                // what matters is leaving the loops, already pushed above
            }
        }
    }
    false
}

/// ARNs are at most 2048 characters (IAM's limit for a resource ARN).
const MAX_ARN: usize = 2048;

/// The resource types of `service` that `entry` can name. `None` when the
/// service is not one xacct ships data for.
pub fn resource_types(service_prefix: &str, entry: &str) -> Option<Vec<&'static str>> {
    let svc = service::service(service_prefix)?;
    if entry.len() > MAX_ARN {
        // longer than any ARN: say it may be anything rather than search it
        return Some(svc.resources.keys().map(String::as_str).collect());
    }
    let e = entry_tokens(entry);
    Some(
        svc.resources
            .iter()
            .filter(|(_, r)| intersect(&e, template(&r.arn)))
            .map(|(name, _)| name.as_str())
            .collect(),
    )
}

/// The tokens of every ARN template of the service data, made once.
fn template(arn: &str) -> &'static [Tok] {
    static TEMPLATES: OnceLock<HashMap<&'static str, Vec<Tok>>> = OnceLock::new();
    let all = TEMPLATES.get_or_init(|| {
        service::data()
            .services
            .values()
            .flat_map(|s| s.resources.values())
            .map(|r| (r.arn.as_str(), template_tokens(&r.arn)))
            .collect()
    });
    all.get(arn).map(Vec::as_slice).unwrap_or(&[])
}

/// Can `entry` name a resource `action` (exact name, e.g. `s3:ListBucket`)
/// applies to? `None` when the action is unknown or takes any resource.
pub fn action_can_apply(action: &str, entry: &str) -> Option<bool> {
    let svc = action.split(':').next()?;
    action_can_apply_given(action, entry, || resource_types(svc, entry))
}

/// `action_can_apply` with the entry's resource types (in the action's
/// service) supplied by the caller, who may have worked them out once for
/// several actions.
pub fn action_can_apply_given(
    action: &str,
    entry: &str,
    types: impl FnOnce() -> Option<Vec<&'static str>>,
) -> Option<bool> {
    let (_, a) = service::action(action)?;
    if entry == "*" {
        return Some(true);
    }
    if a.resources.is_empty() {
        // actions without a resource type are authorised against "*" only
        return Some(false);
    }
    let types = types()?;
    Some(a.resources.iter().any(|r| types.contains(&r.kind.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(svc: &str, e: &str) -> Vec<&'static str> {
        resource_types(svc, e).unwrap_or_default()
    }

    #[test]
    fn s3_bucket_and_object_arns() {
        assert_eq!(types("s3", "arn:aws:s3:::alice-data"), vec!["bucket"]);
        assert_eq!(types("s3", "arn:aws:s3:::alice-data/*"), vec!["object"]);
        assert_eq!(
            types("s3", "arn:aws:s3:::alice-data/a/b.csv"),
            vec!["object"]
        );
        let both = types("s3", "arn:aws:s3:::alice-*");
        assert!(
            both.contains(&"bucket") && both.contains(&"object"),
            "{both:?}"
        );
        assert!(types("s3", "arn:aws:kms:us-west-2:1:key/x").is_empty());
    }

    #[test]
    fn kms_key_and_alias_arns() {
        assert_eq!(
            types("kms", "arn:aws:kms:us-west-2:111111111111:key/1234"),
            vec!["key"]
        );
        assert_eq!(
            types("kms", "arn:aws:kms:us-west-2:111111111111:alias/alice"),
            vec!["alias"]
        );
        assert_eq!(types("kms", "arn:aws:kms:*:111111111111:*").len(), 2);
        assert!(types("kms", "1234abcd-12ab-34cd-56ef-1234567890ab").is_empty());
    }

    #[test]
    fn actions_and_their_resource_types() {
        assert_eq!(
            action_can_apply("s3:ListBucket", "arn:aws:s3:::b/*"),
            Some(false)
        );
        assert_eq!(
            action_can_apply("s3:ListBucket", "arn:aws:s3:::b"),
            Some(true)
        );
        assert_eq!(
            action_can_apply("s3:GetObject", "arn:aws:s3:::b"),
            Some(false)
        );
        assert_eq!(
            action_can_apply("s3:GetObject", "arn:aws:s3:::b/*"),
            Some(true)
        );
        assert_eq!(action_can_apply("s3:GetObject", "*"), Some(true));
        assert_eq!(
            action_can_apply("s3:GetObject", "arn:aws:s3:::${aws:username}/*"),
            Some(true)
        );
        assert_eq!(
            action_can_apply("kms:Decrypt", "arn:aws:kms:us-west-2:1:alias/a"),
            Some(false)
        );
        assert_eq!(action_can_apply("s3:NoSuchAction", "*"), None);
    }
}
