//! Condition operators and their evaluation, as the IAM condition operator
//! reference describes them, extended to three values for unknown keys.

use std::net::IpAddr;

use super::context::{Context, CtxValue, Lookup};
use super::matching::{Unresolved, arn_matches, compile, glob};
use super::model::Version;
use super::tri::Tri;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpBase {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const ALL_OPS: [(&str, OpBase); 27] = [
    ("StringEquals", OpBase::StringEquals),
    ("StringNotEquals", OpBase::StringNotEquals),
    ("StringEqualsIgnoreCase", OpBase::StringEqualsIgnoreCase),
    (
        "StringNotEqualsIgnoreCase",
        OpBase::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", OpBase::StringLike),
    ("StringNotLike", OpBase::StringNotLike),
    ("NumericEquals", OpBase::NumericEquals),
    ("NumericNotEquals", OpBase::NumericNotEquals),
    ("NumericLessThan", OpBase::NumericLessThan),
    ("NumericLessThanEquals", OpBase::NumericLessThanEquals),
    ("NumericGreaterThan", OpBase::NumericGreaterThan),
    ("NumericGreaterThanEquals", OpBase::NumericGreaterThanEquals),
    ("DateEquals", OpBase::DateEquals),
    ("DateNotEquals", OpBase::DateNotEquals),
    ("DateLessThan", OpBase::DateLessThan),
    ("DateLessThanEquals", OpBase::DateLessThanEquals),
    ("DateGreaterThan", OpBase::DateGreaterThan),
    ("DateGreaterThanEquals", OpBase::DateGreaterThanEquals),
    ("Bool", OpBase::Bool),
    ("BinaryEquals", OpBase::BinaryEquals),
    ("IpAddress", OpBase::IpAddress),
    ("NotIpAddress", OpBase::NotIpAddress),
    ("ArnEquals", OpBase::ArnEquals),
    ("ArnLike", OpBase::ArnLike),
    ("ArnNotEquals", OpBase::ArnNotEquals),
    ("ArnNotLike", OpBase::ArnNotLike),
    ("Null", OpBase::Null),
];

impl OpBase {
    pub fn name(self) -> &'static str {
        ALL_OPS
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("?", |(n, _)| n)
    }

    /// Operators that hold when the request value does *not* match.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            OpBase::StringNotEquals
                | OpBase::StringNotEqualsIgnoreCase
                | OpBase::StringNotLike
                | OpBase::NumericNotEquals
                | OpBase::DateNotEquals
                | OpBase::NotIpAddress
                | OpBase::ArnNotEquals
                | OpBase::ArnNotLike
        )
    }

    /// Policy variables are substituted in string and ARN comparisons only.
    fn takes_variables(self) -> bool {
        matches!(
            self,
            OpBase::StringEquals
                | OpBase::StringNotEquals
                | OpBase::StringEqualsIgnoreCase
                | OpBase::StringNotEqualsIgnoreCase
                | OpBase::StringLike
                | OpBase::StringNotLike
                | OpBase::ArnEquals
                | OpBase::ArnLike
                | OpBase::ArnNotEquals
                | OpBase::ArnNotLike
        )
    }

    /// `StringEqualsIgnoreCase` and `StringNotEqualsIgnoreCase`.
    pub fn ignores_case(self) -> bool {
        matches!(
            self,
            OpBase::StringEqualsIgnoreCase | OpBase::StringNotEqualsIgnoreCase
        )
    }

    /// Whether `*` and `?` in the policy values are wildcards.
    pub fn wildcards(self) -> bool {
        matches!(
            self,
            OpBase::StringLike
                | OpBase::StringNotLike
                | OpBase::ArnEquals
                | OpBase::ArnLike
                | OpBase::ArnNotEquals
                | OpBase::ArnNotLike
        )
    }

    /// Check a policy value is well formed for this operator.
    pub fn check_value(self, v: &str) -> Result<(), String> {
        match self {
            OpBase::NumericEquals
            | OpBase::NumericNotEquals
            | OpBase::NumericLessThan
            | OpBase::NumericLessThanEquals
            | OpBase::NumericGreaterThan
            | OpBase::NumericGreaterThanEquals => parse_number(v)
                .map(|_| ())
                .ok_or_else(|| format!("`{v}` is not a number")),
            OpBase::DateEquals
            | OpBase::DateNotEquals
            | OpBase::DateLessThan
            | OpBase::DateLessThanEquals
            | OpBase::DateGreaterThan
            | OpBase::DateGreaterThanEquals => parse_date(v)
                .map(|_| ())
                .ok_or_else(|| format!("`{v}` is not an ISO 8601 date or epoch time")),
            OpBase::Bool | OpBase::Null => parse_bool(v)
                .map(|_| ())
                .ok_or_else(|| format!("`{v}` is not `true` or `false`")),
            OpBase::IpAddress | OpBase::NotIpAddress => parse_cidr(v)
                .map(|_| ())
                .ok_or_else(|| format!("`{v}` is not an IP address or CIDR block")),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOp {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Operator {
    pub base: OpBase,
    pub if_exists: bool,
    pub set: Option<SetOp>,
}

impl Operator {
    /// Parse `ForAllValues:StringLikeIfExists` and friends. Operator names are
    /// matched case-insensitively.
    pub fn parse(s: &str) -> Option<Operator> {
        let lower = s.to_ascii_lowercase();
        let (set, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (Some(SetOp::ForAnyValue), r)
        } else if let Some(r) = lower.strip_prefix("forallvalues:") {
            (Some(SetOp::ForAllValues), r)
        } else {
            (None, lower.as_str())
        };
        let find = |name: &str| {
            ALL_OPS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, o)| *o)
        };
        if let Some(base) = find(rest) {
            return Some(Operator {
                base,
                if_exists: false,
                set,
            });
        }
        let base = find(rest.strip_suffix("ifexists")?)?;
        if base == OpBase::Null {
            return None;
        }
        Some(Operator {
            base,
            if_exists: true,
            set,
        })
    }

    pub fn name(&self) -> String {
        let mut s = String::new();
        match self.set {
            Some(SetOp::ForAnyValue) => s.push_str("ForAnyValue:"),
            Some(SetOp::ForAllValues) => s.push_str("ForAllValues:"),
            None => {}
        }
        s.push_str(self.base.name());
        if self.if_exists {
            s.push_str("IfExists");
        }
        s
    }

    /// Evaluate one `"Op": {"key": [values]}` entry.
    pub fn eval(&self, key: &str, values: &[String], version: Version, ctx: &Context) -> Tri {
        self.eval_with(&key.to_ascii_lowercase(), values, &[], version, ctx)
    }

    /// `eval` with the key already in lower case and the values' precompiled
    /// forms (see `Condition::patterns`).
    pub fn eval_with(
        &self,
        key_lc: &str,
        values: &[String],
        patterns: &[Option<Compiled>],
        version: Version,
        ctx: &Context,
    ) -> Tri {
        let hash = super::context::key_hash(key_lc);
        self.eval_hashed(key_lc, hash, values, patterns, version, ctx)
    }

    /// `eval_with` with the key's `key_hash` already computed.
    pub fn eval_hashed(
        &self,
        key_lc: &str,
        key_hash: u64,
        values: &[String],
        patterns: &[Option<Compiled>],
        version: Version,
        ctx: &Context,
    ) -> Tri {
        let base = self.base;
        match ctx.lookup_hashed(key_lc, key_hash) {
            Lookup::Unknown { carried } => {
                if base == OpBase::Null && carried {
                    // the key is in the request: Null true is false, Null false is true
                    return Tri::from(values.iter().all(|v| parse_bool(v) == Some(false)));
                }
                Tri::Unknown
            }
            Lookup::Absent => {
                if base == OpBase::Null {
                    // Null: true matches an absent key
                    return Tri::any(
                        values
                            .iter()
                            .map(|v| Tri::from(parse_bool(v) == Some(true))),
                    );
                }
                if self.if_exists {
                    return Tri::True;
                }
                match self.set {
                    Some(SetOp::ForAllValues) => Tri::True,
                    Some(SetOp::ForAnyValue) => Tri::False,
                    None => Tri::from(base.is_negated()),
                }
            }
            Lookup::Present(v) => {
                if base == OpBase::Null {
                    return Tri::any(
                        values
                            .iter()
                            .map(|val| Tri::from(parse_bool(val) == Some(false))),
                    );
                }
                self.eval_present(v, values, patterns, version, ctx)
            }
        }
    }

    fn eval_present(
        &self,
        v: &CtxValue,
        values: &[String],
        patterns: &[Option<Compiled>],
        version: Version,
        ctx: &Context,
    ) -> Tri {
        let base = self.base;
        // m(r): does request value r match any of the policy values (positive sense)?
        let matches_any = |r: &str| -> Tri {
            if matches!(base, OpBase::IpAddress | OpBase::NotIpAddress) {
                // the request's address read once, not once per network
                let Ok(ip) = r.parse::<IpAddr>() else {
                    return Tri::False;
                };
                return Tri::from(values.iter().enumerate().any(|(i, pv)| {
                    match patterns.get(i).and_then(Option::as_ref) {
                        Some(Compiled::Cidr(net)) => net.contains(ip),
                        _ => parse_cidr(pv).is_some_and(|net| net.contains(ip)),
                    }
                }));
            }
            Tri::any(values.iter().enumerate().map(|(i, pv)| {
                positive_match(
                    base,
                    pv,
                    patterns.get(i).and_then(Option::as_ref),
                    r,
                    version,
                    ctx,
                )
            }))
        };
        let reqs = v.values();
        let negated = base.is_negated();
        match self.set {
            None => {
                let any = Tri::any(reqs.iter().map(|r| matches_any(r)));
                if negated { any.not() } else { any }
            }
            Some(SetOp::ForAnyValue) => Tri::any(reqs.iter().map(|r| {
                let m = matches_any(r);
                if negated { m.not() } else { m }
            })),
            Some(SetOp::ForAllValues) => Tri::all(reqs.iter().map(|r| {
                let m = matches_any(r);
                if negated { m.not() } else { m }
            })),
        }
    }
}

/// The positive comparison behind an operator (`StringNotLike` compares like `StringLike`).
fn positive_match(
    base: OpBase,
    policy_value: &str,
    pre: Option<&Compiled>,
    req: &str,
    version: Version,
    ctx: &Context,
) -> Tri {
    match pre {
        Some(Compiled::Arn(a)) => {
            return Tri::from(a.matches(&super::matching::ArnParts::new(req)));
        }
        Some(Compiled::Cidr(net)) => {
            return Tri::from(req.parse::<IpAddr>().is_ok_and(|ip| net.contains(ip)));
        }
        Some(Compiled::Literal(s)) => return Tri::from(super::matching::same(req, s)),
        Some(Compiled::Prefix(s)) => return Tri::from(super::matching::starts(req, s)),
        _ => {}
    }
    if base.takes_variables() {
        let arn = matches!(
            base,
            OpBase::ArnEquals | OpBase::ArnLike | OpBase::ArnNotEquals | OpBase::ArnNotLike
        );
        let compiled;
        let pattern = match pre {
            Some(Compiled::Glob(p)) => p,
            Some(Compiled::Template(t)) => {
                compiled = match t.resolve(ctx) {
                    Ok(p) => p,
                    Err(Unresolved::Absent) => return Tri::False,
                    Err(Unresolved::Unknown(_)) => return Tri::Unknown,
                };
                &compiled
            }
            _ => {
                compiled = match compile(policy_value, version, ctx, base.wildcards()) {
                    Ok(p) => p,
                    Err(Unresolved::Absent) => return Tri::False,
                    Err(Unresolved::Unknown(_)) => return Tri::Unknown,
                };
                &compiled
            }
        };
        let ignore_case = base.ignores_case();
        return Tri::from(if arn {
            arn_matches(pattern, req)
        } else {
            glob(pattern, req, ignore_case)
        });
    }
    let pv = policy_value;
    let r = match base {
        OpBase::NumericEquals | OpBase::NumericNotEquals => num_cmp(pv, req, |a, b| a == b),
        OpBase::NumericLessThan => num_cmp(pv, req, |p, r| r < p),
        OpBase::NumericLessThanEquals => num_cmp(pv, req, |p, r| r <= p),
        OpBase::NumericGreaterThan => num_cmp(pv, req, |p, r| r > p),
        OpBase::NumericGreaterThanEquals => num_cmp(pv, req, |p, r| r >= p),
        OpBase::DateEquals | OpBase::DateNotEquals => date_cmp(pv, req, |a, b| a == b),
        OpBase::DateLessThan => date_cmp(pv, req, |p, r| r < p),
        OpBase::DateLessThanEquals => date_cmp(pv, req, |p, r| r <= p),
        OpBase::DateGreaterThan => date_cmp(pv, req, |p, r| r > p),
        OpBase::DateGreaterThanEquals => date_cmp(pv, req, |p, r| r >= p),
        OpBase::Bool => matches!((parse_bool(pv), parse_bool(req)), (Some(a), Some(b)) if a == b),
        OpBase::BinaryEquals => match (base64_decode(pv), base64_decode(req)) {
            (Some(a), Some(b)) => a == b,
            _ => pv == req,
        },
        OpBase::IpAddress | OpBase::NotIpAddress => match (parse_cidr(pv), req.parse::<IpAddr>()) {
            (Some(net), Ok(ip)) => net.contains(ip),
            _ => false,
        },
        // string and ARN operators were handled above; Null never reaches here
        _ => false,
    };
    Tri::from(r)
}

fn num_cmp(p: &str, r: &str, f: impl Fn(f64, f64) -> bool) -> bool {
    match (parse_number(p), parse_number(r)) {
        (Some(p), Some(r)) => f(p, r),
        _ => false,
    }
}

fn date_cmp(p: &str, r: &str, f: impl Fn(f64, f64) -> bool) -> bool {
    match (parse_date(p), parse_date(r)) {
        (Some(p), Some(r)) => f(p, r),
        _ => false,
    }
}

pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// ISO 8601 (`2024-01-31`, `2024-01-31T12:00:00Z`, with fractions or offsets) or
/// epoch seconds, as seconds since the epoch.
pub fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s.parse::<f64>().ok();
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) as f64 * 86_400.0;
    let mut i = 10;
    if i < b.len() {
        if b[i] != b'T' && b[i] != b't' && b[i] != b' ' {
            return None;
        }
        i += 1;
        let h = num(i..i + 2)?;
        if b.get(i + 2) != Some(&b':') {
            return None;
        }
        let mi = num(i + 3..i + 5)?;
        i += 5;
        let mut sec = 0.0;
        if b.get(i) == Some(&b':') {
            sec = num(i + 1..i + 3)? as f64;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                sec += s.get(start..i)?.parse::<f64>().unwrap_or(0.0);
            }
        }
        if h > 24 || mi > 59 || sec >= 61.0 {
            return None;
        }
        secs += (h * 3600 + mi * 60) as f64 + sec;
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1..i + 3)?;
                let om = match b.get(i + 3) {
                    Some(b':') => num(i + 4..i + 6)?,
                    Some(_) => num(i + 3..i + 5)?,
                    None => 0,
                };
                let off = (oh * 3600 + om * 60) as f64;
                secs += if sign == b'+' { -off } else { off };
            }
            _ => return None,
        }
    }
    Some(secs)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A condition value prepared at parse time, when it needs no request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compiled {
    /// Case-sensitive string operators on a value without wildcards: the text
    /// itself, compared whole.
    Literal(String),
    /// Case-sensitive string operators on `text*` (one final wildcard): the
    /// text before it, a prefix of the request's value.
    Prefix(String),
    /// String operators: the value's tokens.
    Glob(super::matching::Pattern),
    /// ARN operators: the value as an ARN pattern (exact, prefix or glob).
    Arn(super::matching::ArnPat),
    /// IpAddress / NotIpAddress: the network.
    Cidr(Cidr),
    /// String and ARN operators on a value with policy variables.
    Template(super::matching::Template),
}

impl Compiled {
    /// A case-sensitive pattern, as a literal or a prefix when it is one.
    fn plain(p: super::matching::Pattern) -> Compiled {
        use super::matching::Tok;
        let lit = |toks: &[Tok]| -> Option<String> {
            toks.iter()
                .map(|t| match t {
                    Tok::Lit(c) => Some(*c),
                    _ => None,
                })
                .collect()
        };
        if let Some(s) = lit(&p) {
            return Compiled::Literal(s);
        }
        if let Some((Tok::Star, head)) = p.split_last()
            && let Some(s) = lit(head)
        {
            return Compiled::Prefix(s);
        }
        Compiled::Glob(p)
    }

    /// The precompiled form of one value of an operator, when it has one.
    pub fn new(base: OpBase, text: &str, version: Version) -> Option<Compiled> {
        match base {
            OpBase::IpAddress | OpBase::NotIpAddress => parse_cidr(text).map(Compiled::Cidr),
            OpBase::ArnEquals | OpBase::ArnLike | OpBase::ArnNotEquals | OpBase::ArnNotLike => {
                Some(match super::matching::ArnPat::compile(text, version) {
                    Some(p) => Compiled::Arn(p),
                    None => Compiled::Template(super::matching::Template::new(text, true)),
                })
            }
            b if b.takes_variables() => Some(
                match super::matching::precompile(text, version, b.wildcards()) {
                    Some(p) if !b.ignores_case() => Compiled::plain(p),
                    Some(p) => Compiled::Glob(p),
                    None => Compiled::Template(super::matching::Template::new(text, b.wildcards())),
                },
            ),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let p = u32::from(self.prefix.min(32));
                let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let p = u32::from(self.prefix.min(128));
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                u128::from(n) & mask == u128::from(i) & mask
            }
            (IpAddr::V4(_), IpAddr::V6(i)) => match i.to_ipv4_mapped() {
                Some(v4) => self.contains(IpAddr::V4(v4)),
                None => false,
            },
            _ => false,
        }
    }
}

pub fn parse_cidr(s: &str) -> Option<Cidr> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    if prefix > max {
        return None;
    }
    Some(Cidr { addr, prefix })
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(s: &str) -> Operator {
        Operator::parse(s).unwrap()
    }
    fn vals(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Values compiled to a literal or a prefix decide exactly as the general
    /// matcher, and the string operators do compile to them.
    #[test]
    fn literal_and_prefix_values_decide_as_the_general_matcher() {
        let values = [
            "data/", "data/*", "d?ta/*", "*", "", "Ünï*", "a*b", "data/**",
        ];
        let requests = [
            "data/",
            "data/x",
            "DATA/x",
            "dxta/y",
            "",
            "Ünïcode",
            "ab",
            "a",
        ];
        for name in [
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
            "StringEqualsIgnoreCase",
            "ForAnyValue:StringLike",
        ] {
            let o = op(name);
            for v in values {
                let vs = vals(&[v]);
                let pre: Vec<Option<Compiled>> = vs
                    .iter()
                    .map(|t| Compiled::new(o.base, t, Version::V2012))
                    .collect();
                for r in requests {
                    let mut c = Context::new();
                    c.set_str("s3:prefix", r);
                    assert_eq!(
                        o.eval_with("s3:prefix", &vs, &pre, Version::V2012, &c),
                        o.eval_with("s3:prefix", &vs, &[], Version::V2012, &c),
                        "{name} {v:?} against {r:?}"
                    );
                }
            }
        }
        let like = |v: &str| Compiled::new(OpBase::StringLike, v, Version::V2012);
        assert!(matches!(like("data/"), Some(Compiled::Literal(_))));
        assert!(matches!(like("data/*"), Some(Compiled::Prefix(_))));
        assert!(matches!(like("d?ta/*"), Some(Compiled::Glob(_))));
        assert!(matches!(
            Compiled::new(OpBase::StringEquals, "a*", Version::V2012),
            Some(Compiled::Literal(_))
        ));
        assert!(matches!(
            Compiled::new(OpBase::StringEqualsIgnoreCase, "a", Version::V2012),
            Some(Compiled::Glob(_))
        ));
    }

    #[test]
    fn parses_qualifiers() {
        let o = op("ForAllValues:StringLikeIfExists");
        assert_eq!(o.base, OpBase::StringLike);
        assert!(o.if_exists);
        assert_eq!(o.set, Some(SetOp::ForAllValues));
        assert_eq!(o.name(), "ForAllValues:StringLikeIfExists");
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringEqualz").is_none());
    }

    #[test]
    fn absent_keys() {
        let c = Context::new();
        let v = vals(&["x"]);
        assert_eq!(
            op("StringEquals").eval("k:a", &v, Version::V2012, &c),
            Tri::False
        );
        assert_eq!(
            op("StringNotEquals").eval("k:a", &v, Version::V2012, &c),
            Tri::True
        );
        assert_eq!(
            op("StringEqualsIfExists").eval("k:a", &v, Version::V2012, &c),
            Tri::True
        );
        assert_eq!(
            op("Null").eval("k:a", &vals(&["true"]), Version::V2012, &c),
            Tri::True
        );
        assert_eq!(
            op("ForAllValues:StringEquals").eval("k:a", &v, Version::V2012, &c),
            Tri::True
        );
        assert_eq!(
            op("ForAnyValue:StringEquals").eval("k:a", &v, Version::V2012, &c),
            Tri::False
        );
    }

    #[test]
    fn negated_multi_values_are_nor() {
        let mut c = Context::new();
        c.set_str("k:a", "b");
        assert_eq!(
            op("StringNotEquals").eval("k:a", &vals(&["a", "b"]), Version::V2012, &c),
            Tri::False
        );
        assert_eq!(
            op("StringNotEquals").eval("k:a", &vals(&["a", "c"]), Version::V2012, &c),
            Tri::True
        );
    }

    #[test]
    fn set_operators() {
        let mut c = Context::new();
        c.set("aws:TagKeys", CtxValue::Multi(vals(&["env", "team"])));
        let allowed = vals(&["env", "team", "cost"]);
        assert_eq!(
            op("ForAllValues:StringEquals").eval("aws:TagKeys", &allowed, Version::V2012, &c),
            Tri::True
        );
        assert_eq!(
            op("ForAllValues:StringEquals").eval(
                "aws:TagKeys",
                &vals(&["env"]),
                Version::V2012,
                &c
            ),
            Tri::False
        );
        assert_eq!(
            op("ForAnyValue:StringEquals").eval(
                "aws:TagKeys",
                &vals(&["team"]),
                Version::V2012,
                &c
            ),
            Tri::True
        );
    }

    #[test]
    fn dates_and_numbers_and_ips() {
        assert_eq!(parse_date("1970-01-02T00:00:00Z"), Some(86_400.0));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_date("86400"), Some(86_400.0));
        assert!(parse_date("yesterday").is_none());
        let n = parse_cidr("203.0.113.0/24").unwrap();
        assert!(n.contains("203.0.113.7".parse().unwrap()));
        assert!(!n.contains("203.0.114.7".parse().unwrap()));
        let n6 = parse_cidr("2001:db8::/32").unwrap();
        assert!(n6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(parse_cidr("10.0.0.0/33").is_none());
    }

    #[test]
    fn unknown_keys_are_unknown_but_null_is_decidable_when_carried() {
        let mut c = Context::new();
        c.mark_unknown("aws:SourceVpce");
        assert_eq!(
            op("StringEquals").eval("aws:SourceVpce", &vals(&["v"]), Version::V2012, &c),
            Tri::Unknown
        );
        assert_eq!(
            op("Null").eval("aws:SourceVpce", &vals(&["true"]), Version::V2012, &c),
            Tri::False
        );
    }
}
