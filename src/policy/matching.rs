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
    if version == Version::V2008 || !text.contains("${") {
        return Ok(literal_pattern(text, wildcards));
    }
    Template::new(text, wildcards).resolve(ctx)
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

/// What a `${...}` body is, before any request is seen.
enum VarBody<'t> {
    /// `${*}`, `${?}`, `${$}`: that character, literally.
    Escape(&'t str),
    /// Not a variable at all (no `:` in the key, a bad default): the text
    /// `${...}` stays as written.
    NotVar,
    Var {
        key: &'t str,
        default: Option<&'t str>,
    },
}

fn classify_var(inner: &str) -> VarBody<'_> {
    if matches!(inner, "*" | "?" | "$") {
        return VarBody::Escape(inner);
    }
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => match d
            .trim()
            .strip_prefix('\'')
            .and_then(|d| d.strip_suffix('\''))
        {
            Some(d) => (k.trim(), Some(d)),
            None => return VarBody::NotVar,
        },
        None => (inner.trim(), None),
    };
    if key.is_empty() || !key.contains(':') {
        return VarBody::NotVar;
    }
    VarBody::Var { key, default }
}

/// A variable's value in the request: `Ok(value)`, or why there is none.
fn lookup_var<'c>(
    key: &str,
    key_lc: &str,
    default: Option<&'c str>,
    ctx: &'c Context,
) -> Result<&'c str, Unresolved> {
    match ctx.lookup_lc(key_lc) {
        // A multivalued key cannot stand in for one value.
        Lookup::Present(v) if v.is_multi() => default.ok_or(Unresolved::Absent),
        Lookup::Present(v) => Ok(v.values().first().map(String::as_str).unwrap_or("")),
        Lookup::Absent => default.ok_or(Unresolved::Absent),
        Lookup::Unknown { .. } => Err(Unresolved::Unknown(key.to_string())),
    }
}

/// One piece of a policy value with variables, read at parse time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Toks(Pattern),
    Var {
        key: String,
        key_lc: String,
        default: Option<String>,
    },
}

/// A policy value with variables, split at parse time into literal pieces
/// and variables, so that a decision only looks the variables up (and builds
/// nothing when one of them is absent or unknown). Resolves exactly as
/// [`compile`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Seg>);

impl Template {
    pub fn new(text: &str, wildcards: bool) -> Template {
        let lit_or_wild = |c: char| match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        };
        let mut segs = Vec::new();
        let mut toks: Pattern = Vec::new();
        let mut rest = text;
        while let Some(pos) = rest.find("${") {
            toks.extend(rest[..pos].chars().map(lit_or_wild));
            let after = &rest[pos + 2..];
            let Some(close) = find_var_end(after) else {
                toks.extend(rest[pos..].chars().map(lit_or_wild));
                rest = "";
                break;
            };
            let inner = &after[..close];
            rest = &after[close + 1..];
            match classify_var(inner) {
                VarBody::Escape(c) => toks.extend(c.chars().map(Tok::Lit)),
                VarBody::NotVar => toks.extend(format!("${{{inner}}}").chars().map(Tok::Lit)),
                VarBody::Var { key, default } => {
                    if !toks.is_empty() {
                        segs.push(Seg::Toks(std::mem::take(&mut toks)));
                    }
                    segs.push(Seg::Var {
                        key: key.to_string(),
                        key_lc: key.to_ascii_lowercase(),
                        default: default.map(str::to_string),
                    });
                }
            }
        }
        toks.extend(rest.chars().map(lit_or_wild));
        if !toks.is_empty() {
            segs.push(Seg::Toks(toks));
        }
        Template(segs)
    }

    /// The pattern for this request.
    pub fn resolve(&self, ctx: &Context) -> Result<Pattern, Unresolved> {
        // look every variable up first: nothing is built for a value that
        // matches nothing
        let mut values: [&str; 4] = [""; 4];
        let mut more: Vec<&str> = Vec::new();
        let mut n = 0usize;
        let mut len = 0usize;
        for seg in &self.0 {
            match seg {
                Seg::Toks(t) => len += t.len(),
                Seg::Var {
                    key,
                    key_lc,
                    default,
                } => {
                    let v = lookup_var(key, key_lc, default.as_deref(), ctx)?;
                    len += v.len();
                    if n < values.len() {
                        values[n] = v;
                    } else {
                        more.push(v);
                    }
                    n += 1;
                }
            }
        }
        let mut out = Vec::with_capacity(len);
        let mut i = 0usize;
        for seg in &self.0 {
            match seg {
                Seg::Toks(t) => out.extend_from_slice(t),
                Seg::Var { .. } => {
                    let v = if i < values.len() {
                        values[i]
                    } else {
                        more.get(i - values.len()).copied().unwrap_or("")
                    };
                    out.extend(v.chars().map(Tok::Lit));
                    i += 1;
                }
            }
        }
        Ok(out)
    }
}

/// Does `pat` match all of `text`? `*` and `?` per token. No allocation: the
/// matcher walks the text by byte offsets with one backtrack point.
pub fn glob(pat: &[Tok], text: &str, ignore_case: bool) -> bool {
    glob_impl(pat.len(), |k| pat[k], text, ignore_case)
}

/// Plain-text glob: `*` and `?` in `pattern` are wildcards.
pub fn glob_str(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if pattern.is_ascii() {
        let pb = pattern.as_bytes();
        glob_impl(
            pb.len(),
            |k| match pb[k] {
                b'*' => Tok::Star,
                b'?' => Tok::One,
                b => Tok::Lit(b as char),
            },
            text,
            ignore_case,
        )
    } else {
        let toks: Pattern = pattern
            .chars()
            .map(|c| match c {
                '*' => Tok::Star,
                '?' => Tok::One,
                c => Tok::Lit(c),
            })
            .collect();
        glob(&toks, text, ignore_case)
    }
}

#[inline]
fn chars_eq(a: char, b: char, ignore_case: bool) -> bool {
    a == b
        || (ignore_case
            && if a.is_ascii() && b.is_ascii() {
                a.eq_ignore_ascii_case(&b)
            } else {
                a.to_lowercase().eq(b.to_lowercase())
            })
}

fn glob_impl(plen: usize, tok: impl Fn(usize) -> Tok, text: &str, ignore_case: bool) -> bool {
    if text.is_ascii() {
        return glob_ascii(plen, tok, text.as_bytes(), ignore_case);
    }
    let next_char = |i: usize| -> (char, usize) {
        let c = text[i..].chars().next().unwrap_or('\0');
        (c, c.len_utf8())
    };
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < text.len() {
        let (c, len) = next_char(i);
        let t = if p < plen { Some(tok(p)) } else { None };
        match t {
            Some(Tok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                i += len;
            }
            Some(Tok::Lit(x)) if chars_eq(x, c, ignore_case) => {
                p += 1;
                i += len;
            }
            _ => match star {
                Some((sp, si)) => {
                    let (_, l) = next_char(si);
                    p = sp + 1;
                    i = si + l;
                    star = Some((sp, si + l));
                }
                None => return false,
            },
        }
    }
    (p..plen).all(|k| tok(k) == Tok::Star)
}

/// An `Action` entry prepared for fast matching against a lower-cased action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionPat {
    /// `*`
    Any,
    /// `s3:*` (lower-cased service prefix).
    Service(String),
    /// `s3:GetObject` (lower-cased).
    Exact(String),
    /// `s3:Get*`: a literal prefix then one final `*` (lower-cased prefix).
    Prefix(String),
    /// Anything else with wildcards (lower-cased tokens of the whole pattern).
    Glob(Pattern),
}

impl ActionPat {
    pub fn new(pattern: &str) -> ActionPat {
        let lc = pattern.to_lowercase();
        if lc == "*" {
            return ActionPat::Any;
        }
        if let Some(svc) = lc.strip_suffix(":*")
            && !svc.contains(['*', '?', ':'])
        {
            return ActionPat::Service(svc.to_string());
        }
        if !lc.contains(['*', '?']) {
            return ActionPat::Exact(lc);
        }
        if let Some(prefix) = lc.strip_suffix('*')
            && !prefix.contains(['*', '?'])
        {
            return ActionPat::Prefix(prefix.to_string());
        }
        ActionPat::Glob(
            lc.chars()
                .map(|c| match c {
                    '*' => Tok::Star,
                    '?' => Tok::One,
                    c => Tok::Lit(c),
                })
                .collect(),
        )
    }

    /// `action_lc` is the request's action in lower case, `svc_lc` its service.
    #[inline]
    pub fn matches(&self, action_lc: &str, svc_lc: &str) -> bool {
        match self {
            ActionPat::Any => true,
            ActionPat::Service(s) => same(s, svc_lc),
            ActionPat::Exact(a) => same(a, action_lc),
            ActionPat::Prefix(p) => starts(action_lc, p),
            ActionPat::Glob(p) => glob(p, action_lc, false),
        }
    }
}

/// String equality that settles most unequal pairs inline: the engine compares
/// many short strings (account ids, ARN parts, action names), most of them
/// unequal, and the length and first word usually decide before libc's
/// `memcmp` is called.
#[inline]
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>())
        && x != y
    {
        return false;
    }
    a == b
}

/// `text.starts_with(prefix)`, as `same`.
#[inline]
pub fn starts(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len() && text.get(..prefix.len()).is_some_and(|h| same(h, prefix))
}

/// FNV-1a over bytes: the hash of the action hints.
#[inline]
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
}
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| fnv_step(h, *b))
}

/// What an action entry's literal text must be, as a hash: the engine's first
/// filter. Stored per policy in one contiguous array, so rejecting a statement
/// by its actions reads neither the statement nor its patterns' text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionHint {
    kind: HintKind,
    /// Length in bytes of the literal text the hash covers.
    len: u32,
    hash: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HintKind {
    /// `*`: matches every action.
    Any,
    /// The request's service must be this text.
    Service,
    /// The whole action must be this text.
    Exact,
    /// The action must start with this text.
    Prefix,
    /// A glob: no cheap test, the pattern decides.
    Check,
}

impl ActionHint {
    pub fn of(p: &ActionPat) -> ActionHint {
        let (kind, text) = match p {
            ActionPat::Any => (HintKind::Any, ""),
            ActionPat::Service(s) => (HintKind::Service, s.as_str()),
            ActionPat::Exact(a) => (HintKind::Exact, a.as_str()),
            ActionPat::Prefix(x) => (HintKind::Prefix, x.as_str()),
            ActionPat::Glob(_) => (HintKind::Check, ""),
        };
        match u32::try_from(text.len()) {
            Ok(len) => ActionHint {
                kind,
                len,
                hash: fnv(text.as_bytes()),
            },
            Err(_) => ActionHint {
                kind: HintKind::Check,
                len: 0,
                hash: 0,
            },
        }
    }
}

/// What a hint says of one request's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hinted {
    /// The pattern cannot match.
    No,
    /// The pattern matches (`*`).
    Yes,
    /// The pattern may match: ask it.
    Check,
}

/// Longest action the prefix hashes cover; longer ones are always checked.
const KEY_MAX: usize = 64;

/// A request's action read once per decision: the hash of each of its prefixes,
/// so that an `Exact`, `Prefix` or `Service` entry is rejected by one integer
/// comparison instead of a string comparison.
pub struct ActionKey {
    len: usize,
    svc_len: usize,
    /// `prefix[n]`: the hash of the first `n` bytes; empty when the action is
    /// longer than `KEY_MAX`.
    prefix: [u64; KEY_MAX + 1],
    covered: bool,
}

impl ActionKey {
    /// `action_lc`: the request's action in lower case; `svc_lc`: its service.
    pub fn new(action_lc: &str, svc_lc: &str) -> ActionKey {
        let bytes = action_lc.as_bytes();
        let mut prefix = [0u64; KEY_MAX + 1];
        let covered = bytes.len() <= KEY_MAX;
        if covered {
            let mut h = FNV_OFFSET;
            prefix[0] = h;
            for (i, b) in bytes.iter().enumerate() {
                h = fnv_step(h, *b);
                prefix[i + 1] = h;
            }
        }
        ActionKey {
            len: bytes.len(),
            svc_len: svc_lc.len(),
            prefix,
            covered,
        }
    }

    /// A necessary condition only: `No` means the entry cannot match; `Check`
    /// means ask the entry's `ActionPat`.
    #[inline]
    pub fn test(&self, h: &ActionHint) -> Hinted {
        let len = h.len as usize;
        let fits = match h.kind {
            HintKind::Any => return Hinted::Yes,
            HintKind::Check => return Hinted::Check,
            _ if !self.covered => return Hinted::Check,
            HintKind::Service => len == self.svc_len,
            HintKind::Exact => len == self.len,
            HintKind::Prefix => len <= self.len,
        };
        if fits && self.prefix.get(len) == Some(&h.hash) {
            Hinted::Check
        } else {
            Hinted::No
        }
    }
}

/// The same matcher over ASCII text, one byte per character.
fn glob_ascii(plen: usize, tok: impl Fn(usize) -> Tok, t: &[u8], ignore_case: bool) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        let c = t[i] as char;
        match if p < plen { Some(tok(p)) } else { None } {
            Some(Tok::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                i += 1;
            }
            Some(Tok::Lit(x)) if x == c || (ignore_case && x.eq_ignore_ascii_case(&c)) => {
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
    (p..plen).all(|k| tok(k) == Tok::Star)
}

/// Action names match case-insensitively, with `*` and `?`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob_str(pattern, action, true)
}

/// Split into at most six colon-separated ARN parts (the last keeps its colons),
/// without allocating. Returns the parts and how many there are.
fn split_arn_toks(p: &[Tok]) -> ([&[Tok]; 6], usize) {
    let mut parts: [&[Tok]; 6] = [&[]; 6];
    let mut n = 0;
    let mut start = 0;
    for (i, t) in p.iter().enumerate() {
        if n == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            parts[n] = &p[start..i];
            n += 1;
            start = i + 1;
        }
    }
    parts[n] = &p[start..];
    (parts, n + 1)
}

/// A value split into its (up to) six ARN parts, once, for matching against
/// many patterns.
#[derive(Debug, Clone, Copy)]
pub struct ArnParts<'a> {
    parts: [&'a str; 6],
    n: usize,
    text: &'a str,
}

impl<'a> ArnParts<'a> {
    /// Is this the ARN of a KMS key (`arn:P:kms:R:A:key/ID`)?
    pub fn is_kms_key(&self) -> bool {
        self.n == 6
            && self.parts[0] == "arn"
            && self.parts[2] == "kms"
            && self.parts[5].starts_with("key/")
    }

    pub fn new(text: &'a str) -> Self {
        let (parts, n) = crate::arn::split6(text);
        ArnParts { parts, n, text }
    }
}

/// ARN matching as IAM does it for `Resource` and the `Arn*` operators: each of the
/// six colon-delimited parts is matched on its own (case-sensitive); wildcards in
/// the resource part may span `/` and `:`.
pub fn arn_matches(pat: &[Tok], value: &str) -> bool {
    if pat == [Tok::Star] {
        return true;
    }
    arn_matches_parts(pat, &ArnParts::new(value))
}

pub fn arn_matches_parts(pat: &[Tok], v: &ArnParts<'_>) -> bool {
    if pat == [Tok::Star] {
        return true;
    }
    let (pp, pn) = split_arn_toks(pat);
    let (vp, vn) = (&v.parts, v.n);
    if pn == 6 {
        return vn == 6 && (0..6).all(|i| glob(pp[i], vp[i], false));
    }
    // A pattern with fewer parts (e.g. `arn:aws:s3:*`): its last part must match
    // the rest of the value.
    if vn < pn {
        return false;
    }
    let last = pn - 1;
    if !(0..last).all(|i| glob(pp[i], vp[i], false)) {
        return false;
    }
    let offset: usize = vp[..last].iter().map(|p| p.len() + 1).sum();
    glob(pp[last], v.text.get(offset..).unwrap_or(""), false)
}

/// A `Resource` entry prepared for matching an ARN: most entries are a whole
/// ARN, or an ARN whose resource part ends in one `*`, and need no glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnPat {
    /// `*`
    Any,
    /// No wildcard: ARN matching is then plain equality.
    Exact(String),
    /// A literal holding all five `:` separators, then one final `*`: the
    /// value's first five parts equal the pattern's and its resource part
    /// starts with the rest, which is `starts_with`.
    Prefix(String),
    /// Anything else: per-part matching, each part literal or a glob.
    Parts(Vec<PartPat>),
}

/// One colon-delimited part of an ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartPat {
    Lit(String),
    Glob(Pattern),
}

impl PartPat {
    #[inline]
    fn matches(&self, s: &str) -> bool {
        match self {
            PartPat::Lit(l) => same(l, s),
            PartPat::Glob(p) => glob(p, s, false),
        }
    }
}

fn literal_text(ts: &[Tok]) -> Option<String> {
    ts.iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect()
}

impl ArnPat {
    /// The precompiled form of an ARN pattern that needs no request context
    /// (as [`precompile`]), `*`/`?` wildcards on; `None` when it has variables.
    /// The common shapes (`*`, an exact ARN, an ARN prefix followed by `*`)
    /// are made from the text without tokenizing it.
    pub fn compile(text: &str, version: Version) -> Option<ArnPat> {
        if version != Version::V2008 && text.contains("${") {
            return None;
        }
        let wild = |t: &str| t.bytes().any(|b| b == b'*' || b == b'?');
        if text == "*" {
            return Some(ArnPat::Any);
        }
        if !wild(text) {
            return Some(ArnPat::Exact(text.to_string()));
        }
        if let Some(head) = text.strip_suffix('*')
            && !wild(head)
            && head.bytes().filter(|&b| b == b':').count() >= 5
        {
            return Some(ArnPat::Prefix(head.to_string()));
        }
        Some(ArnPat::new(literal_pattern(text, true)))
    }

    pub fn new(toks: Pattern) -> ArnPat {
        if toks.as_slice() == [Tok::Star] {
            return ArnPat::Any;
        }
        if let Some(text) = literal_text(&toks) {
            return ArnPat::Exact(text);
        }
        if let Some((Tok::Star, head)) = toks.split_last()
            && let Some(prefix) = literal_text(head)
            && prefix.matches(':').count() >= 5
        {
            return ArnPat::Prefix(prefix);
        }
        let (parts, n) = split_arn_toks(&toks);
        ArnPat::Parts(
            parts[..n]
                .iter()
                .map(|p| match literal_text(p) {
                    Some(l) => PartPat::Lit(l),
                    None => PartPat::Glob(p.to_vec()),
                })
                .collect(),
        )
    }

    #[inline]
    pub fn is_any(&self) -> bool {
        matches!(self, ArnPat::Any)
    }

    #[inline]
    pub fn matches(&self, v: &ArnParts<'_>) -> bool {
        match self {
            ArnPat::Any => true,
            ArnPat::Exact(t) => same(v.text, t),
            ArnPat::Prefix(p) => starts(v.text, p),
            ArnPat::Parts(parts) => {
                // as arn_matches_parts, with the pattern split once
                let pn = parts.len();
                if pn == 6 {
                    return v.n == 6 && parts.iter().zip(v.parts).all(|(p, s)| p.matches(s));
                }
                if v.n < pn {
                    return false;
                }
                let last = pn - 1;
                if !parts[..last].iter().zip(v.parts).all(|(p, s)| p.matches(s)) {
                    return false;
                }
                let offset: usize = v.parts[..last].iter().map(|p| p.len() + 1).sum();
                parts[last].matches(v.text.get(offset..).unwrap_or(""))
            }
        }
    }
}

/// Tokens for a text with no variables to resolve (`*`/`?` wildcards when asked).
pub fn literal_pattern(text: &str, wildcards: bool) -> Pattern {
    text.chars()
        .map(|c| match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// The precompiled form of a text when it needs no request context: version
/// 2008 (no variables) or no `${` in it. Special `${*}`-style escapes count as
/// variables here and are resolved at evaluation.
pub fn precompile(text: &str, version: Version, wildcards: bool) -> Option<Pattern> {
    (version == Version::V2008 || !text.contains("${")).then(|| literal_pattern(text, wildcards))
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
pub fn variable_keys(text: &str) -> Vec<&str> {
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
            keys.push(key);
        }
        rest = &after[close + 1..];
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::context::CtxValue;

    /// Policy variables as IAM resolves them (IAM User Guide, policy
    /// variables): a present key substitutes its value (literally, wildcards
    /// and all), an absent or multivalued key without a default matches
    /// nothing, an unknown key leaves the value unknown, `${*}` `${?}` `${$}`
    /// are literal characters, and what is not a variable stays as written.
    #[test]
    fn policy_variables_resolve_as_iam_documents() {
        let mut ctx = Context::new();
        ctx.set_str("aws:username", "alice");
        ctx.set("aws:TagKeys", CtxValue::Multi(vec!["a".into(), "b".into()]));
        ctx.mark_unknown("aws:SourceVpce");
        let cases: &[(&str, bool, &str)] = &[
            ("home/${aws:username}/*", true, "Ok(\"home/alice/⋆\")"),
            ("home/${aws:username}/*", false, "Ok(\"home/alice/*\")"),
            ("${aws:username}", true, "Ok(\"alice\")"),
            ("${aws:username}", false, "Ok(\"alice\")"),
            ("a${aws:userid}b", true, "Absent"),
            ("a${aws:userid}b", false, "Absent"),
            ("a${aws:userid, 'anon'}b", true, "Ok(\"aanonb\")"),
            ("a${aws:userid, 'anon'}b", false, "Ok(\"aanonb\")"),
            ("x${aws:TagKeys}y", true, "Absent"),
            ("x${aws:TagKeys}y", false, "Absent"),
            ("x${aws:TagKeys,'d'}y", true, "Ok(\"xdy\")"),
            ("x${aws:TagKeys,'d'}y", false, "Ok(\"xdy\")"),
            ("v-${aws:SourceVpce}", true, "Unknown(\"aws:SourceVpce\")"),
            ("v-${aws:SourceVpce}", false, "Unknown(\"aws:SourceVpce\")"),
            ("${*}${?}${$}?*", true, "Ok(\"*?$¿⋆\")"),
            ("${*}${?}${$}?*", false, "Ok(\"*?$?*\")"),
            ("${nocolon}/*", true, "Ok(\"${nocolon}/⋆\")"),
            ("${nocolon}/*", false, "Ok(\"${nocolon}/*\")"),
            ("${aws:username, bad}", true, "Ok(\"${aws:username, bad}\")"),
            (
                "${aws:username, bad}",
                false,
                "Ok(\"${aws:username, bad}\")",
            ),
            ("open ${aws:username", true, "Ok(\"open ${aws:username\")"),
            ("open ${aws:username", false, "Ok(\"open ${aws:username\")"),
            (
                "${a:b}${c:d}${aws:username}${e:f,'1'}${g:h,'2'}${i:j,'3'}${aws:username}",
                true,
                "Absent",
            ),
            (
                "${a:b}${c:d}${aws:username}${e:f,'1'}${g:h,'2'}${i:j,'3'}${aws:username}",
                false,
                "Absent",
            ),
            ("${aws:username, 'x}y'}z", true, "Ok(\"alicez\")"),
            ("${aws:username, 'x}y'}z", false, "Ok(\"alicez\")"),
            (
                "${aws:username}${aws:username}${e:f,'1'}${g:h,'2'}${i:j,'3'}${aws:username}",
                true,
                "Ok(\"alicealice123alice\")",
            ),
        ];
        for (text, wild, want) in cases {
            let got = match compile(text, Version::V2012, &ctx, *wild) {
                Ok(p) => format!("Ok({:?})", render(&p)),
                Err(Unresolved::Absent) => "Absent".to_string(),
                Err(Unresolved::Unknown(k)) => format!("Unknown({k:?})"),
            };
            assert_eq!(&got, want, "{text:?} wildcards={wild}");
        }
    }

    /// A pattern as text: `⋆` a wildcard star, `¿` a wildcard question mark.
    fn render(p: &[Tok]) -> String {
        p.iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::Star => '⋆',
                Tok::One => '¿',
            })
            .collect()
    }

    /// The fast forms decide exactly as per-part globbing does.
    #[test]
    fn arn_pat_agrees_with_per_part_globbing() {
        let patterns = [
            "*",
            "arn:aws:s3:::alice-data",
            "arn:aws:s3:::alice-data/*",
            "arn:aws:s3:::alice-data*",
            "arn:aws:s3:::*",
            "arn:aws:s3:*",
            "arn:aws:s3",
            "arn:aws:kms:us-west-2:111111111111:key/*",
            "arn:aws:kms:*:111111111111:key/*",
            "arn:aws:s3:::alice-data/data/*/x",
            "arn:aws:s3:::a:b/*",
            "arn:aws:iam::222222222222:role/*",
            "arn:aws:iam::222222222222:role/*Copy*",
            "arn:aws:iam::*:role/Bob?",
            "arn:*:s3:::alice-data/*",
            "arn:aws:s3:::alice-data/*:colons",
            "arn:aws",
            "arn:aws:s3:::alice-data/a?*",
            "arn:aws:s3:::alice-data/**",
            "arn:aws:s3::*",
            "?",
            "**",
        ];
        let values = [
            "arn:aws:s3:::alice-data",
            "arn:aws:s3:::alice-data/",
            "arn:aws:s3:::alice-data/data/2024/x",
            "arn:aws:s3:::alice-data-2/k",
            "arn:aws:s3:::alice-data/k:with:colons",
            "arn:aws:s3:::a:b/c",
            "arn:aws:s3",
            "arn:aws:s3:x",
            "arn:aws:kms:us-west-2:111111111111:key/8d3a",
            "arn:aws:kms:us-east-1:111111111111:key/8d3a",
            "arn:aws:kms:us-west-2:111111111111",
            "arn:aws:iam::222222222222:role/path/Bob",
            "arn:aws:iam::222222222222:role/BobCopyRole",
            "arn:aws:iam::111111111111:role/Bobs",
            "arn:aws-cn:s3:::alice-data/k",
            "arn:aws:s3:::alice-data/k:with:colons",
            "arn:aws",
            "*",
        ];
        for p in patterns {
            let toks = literal_pattern(p, true);
            let fast = ArnPat::new(toks.clone());
            assert_eq!(
                ArnPat::compile(p, Version::V2012).as_ref(),
                Some(&fast),
                "{p}: compiled from the text as from its tokens"
            );
            for v in values {
                let parts = ArnParts::new(v);
                assert_eq!(
                    fast.matches(&parts),
                    arn_matches_parts(&toks, &parts),
                    "{p} against {v} ({fast:?})"
                );
            }
        }
        assert!(matches!(
            ArnPat::new(literal_pattern("arn:aws:s3:::b/*", true)),
            ArnPat::Prefix(_)
        ));
        assert!(matches!(
            ArnPat::new(literal_pattern("arn:aws:s3:*", true)),
            ArnPat::Parts(_)
        ));
    }

    #[test]
    fn same_and_starts_are_string_equality_and_prefix() {
        let words = [
            "",
            "a",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:roox",
            "12345678",
            "123456789",
            "1234567",
            "Ünïcode",
            "Ünï",
            "arn:aws:iam::111122223333",
        ];
        for a in words {
            for b in words {
                assert_eq!(same(a, b), a == b, "{a:?} == {b:?}");
                assert_eq!(starts(a, b), a.starts_with(b), "{a:?} starts with {b:?}");
            }
        }
    }

    /// The hints only ever say "cannot match" of an entry that does not match,
    /// and "matches" of one that does, whatever the entry and the action.
    #[test]
    fn action_hints_never_reject_a_match() {
        let long = format!("s3:{}", "x".repeat(KEY_MAX));
        let patterns = [
            "*",
            "s3:*",
            "S3:GetObject",
            "s3:get*",
            "s3:?etObject",
            "kms:GenerateDataKey*",
            "s3",
            "s3:",
            "s3:get",
            "s3:*Object",
            "s3x:*",
            "ÉC2:Describe*",
            long.as_str(),
        ];
        let long_lc = long.to_lowercase();
        let actions = [
            "s3:getobject",
            "s3:get",
            "s3",
            "s3:",
            "s3x:getobject",
            "kms:generatedatakey",
            "kms:generatedatakeywithoutplaintext",
            "éc2:describeinstances",
            "",
            long_lc.as_str(),
        ];
        let mut rejected = 0;
        for p in patterns {
            let ap = ActionPat::new(p);
            let hint = ActionHint::of(&ap);
            for a in actions {
                let svc = a.split(':').next().unwrap_or("");
                let m = ap.matches(a, svc);
                match ActionKey::new(a, svc).test(&hint) {
                    Hinted::No => {
                        rejected += 1;
                        assert!(!m, "{p} rejected {a}, which it matches");
                    }
                    Hinted::Yes => assert!(m, "{p} said to match {a}"),
                    Hinted::Check => {}
                }
            }
        }
        // and the hints do reject: most pairs here do not match
        assert!(rejected > 60, "only {rejected} rejections");
    }

    #[test]
    fn action_prefix_agrees_with_glob() {
        for p in [
            "s3:Get*",
            "kms:GenerateDataKey*",
            "s3:?et*",
            "s3:*Object",
            "*",
            "s3:*",
        ] {
            let ap = ActionPat::new(p);
            for a in [
                "s3:getobject",
                "s3:setobject",
                "kms:generatedatakeypair",
                "s3:get",
                "s3x:get",
            ] {
                assert_eq!(
                    ap.matches(a, a.split(':').next().unwrap_or("")),
                    glob_str(&p.to_lowercase(), a, false),
                    "{p} against {a}"
                );
            }
        }
    }

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
