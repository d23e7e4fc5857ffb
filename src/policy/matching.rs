//! Wildcards, policy variables, and the action / resource / ARN matching rules.

use super::context::{Context, Lookup};
use super::model::Version;
use super::tri::Tri;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A pattern after variable substitution.
pub type Pattern = Vec<Tok>;

/// Why a value with policy variables could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// A variable's key is absent and has no default: the value matches nothing.
    Absent,
    /// A variable's key is unknown.
    Unknown(String),
}

/// Substitute policy variables (policy version 2012-10-17 only) and turn the
/// text into tokens. With `wildcards`, `*` and `?` in the policy text are
/// wildcards; substituted values and `${*}`, `${?}`, `${$}` are always literal.
pub fn compile(
    text: &str,
    version: Version,
    ctx: &Context,
    wildcards: bool,
) -> Result<Pattern, Unresolved> {
    let mut out = Vec::with_capacity(text.len());
    let lit_or_wild = |c: char| match c {
        '*' if wildcards => Tok::Star,
        '?' if wildcards => Tok::One,
        c => Tok::Lit(c),
    };
    if version == Version::V2008 || !text.contains("${") {
        out.extend(text.chars().map(lit_or_wild));
        return Ok(out);
    }
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        out.extend(rest[..pos].chars().map(lit_or_wild));
        let after = &rest[pos + 2..];
        let Some(close) = find_var_end(after) else {
            // no closing brace: the rest is literal text
            out.extend(rest[pos..].chars().map(lit_or_wild));
            return Ok(out);
        };
        let inner = &after[..close];
        rest = &after[close + 1..];
        match resolve_var(inner, ctx)? {
            Some(value) => out.extend(value.chars().map(Tok::Lit)),
            None => out.extend(format!("${{{inner}}}").chars().map(Tok::Lit)),
        }
    }
    out.extend(rest.chars().map(lit_or_wild));
    Ok(out)
}

/// End of a `${...}` body, honouring a quoted default that may contain `}`.
fn find_var_end(s: &str) -> Option<usize> {
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// Resolve one variable body. `Ok(None)` means it is not a variable at all.
fn resolve_var(inner: &str, ctx: &Context) -> Result<Option<String>, Unresolved> {
    match inner {
        "*" | "?" | "$" => return Ok(Some(inner.to_string())),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .map(str::to_string);
            match d {
                Some(d) => (k.trim(), Some(d)),
                None => return Ok(None),
            }
        }
        None => (inner.trim(), None),
    };
    if key.is_empty() || !key.contains(':') {
        return Ok(None);
    }
    match ctx.lookup(key) {
        // A multivalued key cannot stand in for one value.
        Lookup::Present(v) if v.is_multi() => default.map(Some).ok_or(Unresolved::Absent),
        Lookup::Present(v) => Ok(v.values().first().cloned()),
        Lookup::Absent => default.map(Some).ok_or(Unresolved::Absent),
        Lookup::Unknown { .. } => Err(Unresolved::Unknown(key.to_string())),
    }
}

/// Does `pat` match all of `text`? `*` and `?` per token.
pub fn glob(pat: &[Tok], text: &str, ignore_case: bool) -> bool {
    let t: Vec<char> = text.chars().collect();
    glob_chars(pat, &t, ignore_case)
}

fn glob_chars(pat: &[Tok], t: &[char], ignore_case: bool) -> bool {
    let eq = |a: char, b: char| {
        if ignore_case {
            a == b || a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    // Iterative matcher with single backtrack point: linear in practice.
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        match pat.get(p) {
            Some(Tok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                i += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, t[i]) => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|t| *t == Tok::Star)
}

/// Plain-text glob over a pattern string (no variables).
pub fn glob_str(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let pat: Pattern = pattern
        .chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect();
    glob(&pat, text, ignore_case)
}

/// Action names match case-insensitively, with `*` and `?`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob_str(pattern, action, true)
}

/// Split into the six colon-separated ARN parts; the last keeps its colons.
fn split_arn_toks(p: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    for (i, t) in p.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            parts.push(&p[start..i]);
            start = i + 1;
        }
    }
    parts.push(&p[start..]);
    parts
}

fn split_arn_text(s: &str) -> Vec<&str> {
    s.splitn(6, ':').collect()
}

/// ARN matching as IAM does it for `Resource` and the `Arn*` operators: each of the
/// six colon-delimited parts is matched on its own (case-sensitive); wildcards in
/// the resource part may span `/` and `:`.
pub fn arn_matches(pat: &[Tok], value: &str) -> bool {
    if pat == [Tok::Star] {
        return true;
    }
    let pp = split_arn_toks(pat);
    let vp = split_arn_text(value);
    if pp.len() == 6 {
        if vp.len() != 6 {
            return false;
        }
        return pp.iter().zip(&vp).all(|(p, v)| glob(p, v, false));
    }
    // A pattern with fewer parts (e.g. `arn:aws:s3:*`): its last part must match
    // the rest of the value.
    if vp.len() < pp.len() {
        return false;
    }
    let last = pp.len() - 1;
    for i in 0..last {
        if !glob(pp[i], vp[i], false) {
            return false;
        }
    }
    let rest = vp[last..].join(":");
    glob(pp[last], &rest, false)
}

/// Does a Resource/NotResource entry match the request's resource?
pub fn resource_matches(pattern: &str, version: Version, ctx: &Context, resource: &str) -> Tri {
    match compile(pattern, version, ctx, true) {
        Ok(p) => {
            if resource == "*" {
                // an action that takes no resource: only `*` itself covers it
                return Tri::from(!p.is_empty() && p.iter().all(|t| *t == Tok::Star));
            }
            Tri::from(arn_matches(&p, resource))
        }
        Err(Unresolved::Absent) => Tri::False,
        Err(Unresolved::Unknown(_)) => Tri::Unknown,
    }
}

/// The keys of the variables in a text (for reporting unknowns).
pub fn variable_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        let after = &rest[pos + 2..];
        let Some(close) = find_var_end(after) else {
            break;
        };
        let inner = &after[..close];
        let key = inner.split(',').next().unwrap_or("").trim();
        if key.contains(':') {
            keys.push(key.to_string());
        }
        rest = &after[close + 1..];
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::context::CtxValue;

    fn pat(s: &str) -> Pattern {
        compile(s, Version::V2012, &Context::new(), true).unwrap()
    }

    #[test]
    fn glob_basics() {
        assert!(glob_str("s3:Get*", "s3:GetObject", false));
        assert!(glob_str("s3:*Object", "s3:GetObject", false));
        assert!(glob_str("s3:?etObject", "s3:GetObject", false));
        assert!(!glob_str("s3:Get", "s3:GetObject", false));
        assert!(glob_str("*", "", false));
        assert!(glob_str("a*b*c", "aXXbYYc", false));
        assert!(!glob_str("a*b*c", "aXXbYY", false));
        assert!(action_matches("S3:getobject", "s3:GetObject"));
    }

    #[test]
    fn resource_wildcards_stay_in_their_arn_part() {
        assert!(arn_matches(
            &pat("arn:aws:s3:::bucket/*"),
            "arn:aws:s3:::bucket/a/b"
        ));
        assert!(!arn_matches(
            &pat("arn:aws:s3:::bucket/*"),
            "arn:aws:s3:::bucket"
        ));
        assert!(arn_matches(
            &pat("arn:aws:s3:::bucket*"),
            "arn:aws:s3:::bucket/x"
        ));
        assert!(arn_matches(
            &pat("arn:aws:kms:*:111111111111:key/*"),
            "arn:aws:kms:us-west-2:111111111111:key/abc"
        ));
        // a `*` in the region part does not swallow the account part
        assert!(!arn_matches(
            &pat("arn:aws:kms:*:key/abc"),
            "arn:aws:kms:us-west-2:111111111111:key/abc"
        ));
        assert!(!arn_matches(
            &pat("arn:aws:s3:::Bucket/*"),
            "arn:aws:s3:::bucket/x"
        ));
    }

    #[test]
    fn star_only_resource_for_resourceless_actions() {
        let c = Context::new();
        assert_eq!(resource_matches("*", Version::V2012, &c, "*"), Tri::True);
        assert_eq!(
            resource_matches("arn:aws:s3:::*", Version::V2012, &c, "*"),
            Tri::False
        );
    }

    #[test]
    fn variables_substitute_literally() {
        let mut c = Context::new();
        c.set("aws:username", CtxValue::Single("bob".into()));
        let p = compile("home/${aws:username}/*", Version::V2012, &c, true).unwrap();
        assert!(glob(&p, "home/bob/x", false));
        assert!(!glob(&p, "home/alice/x", false));
        // special characters are literal
        let p = compile("a${*}b", Version::V2012, &c, true).unwrap();
        assert!(glob(&p, "a*b", false));
        assert!(!glob(&p, "axxb", false));
        // defaults
        let p = compile("${aws:PrincipalTag/team, 'none'}", Version::V2012, &c, true).unwrap();
        assert!(glob(&p, "none", false));
        // absent without default
        assert_eq!(
            compile("${aws:PrincipalTag/team}", Version::V2012, &c, true),
            Err(Unresolved::Absent)
        );
        // 2008: literal
        let p = compile("${aws:username}", Version::V2008, &c, true).unwrap();
        assert!(glob(&p, "${aws:username}", false));
    }
}
