//! The request context: the condition keys a request carries, those it carries
//! with values nobody knows, and those it certainly does not carry.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast multiplicative hash (FxHash's): condition keys are short, trusted
/// strings (the request's own keys), looked up once per condition of every
/// statement; SipHash's DoS resistance buys nothing here and costs a third of
/// the lookup.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHash(u64);

impl Hasher for FastHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // eight bytes at a time (FxHash's mixing), the tail as one word
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut w = [0u8; 8];
            w[..tail.len()].copy_from_slice(tail);
            // the length keeps "a" and "a\0" apart
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w) ^ ((tail.len() as u64) << 59))
                .wrapping_mul(K);
        }
        self.0 = h;
    }
}

/// A map keyed by short, trusted strings (condition keys, action names).
pub(crate) type KeyMap<V> = HashMap<String, V, BuildHasherDefault<FastHash>>;

/// A context value as conditions see it: one or several strings. Booleans and
/// numbers are kept in their canonical text form (`true`, `42`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtxValue {
    Single(String),
    Multi(Vec<String>),
}

impl CtxValue {
    pub fn values(&self) -> &[String] {
        match self {
            CtxValue::Single(s) => std::slice::from_ref(s),
            CtxValue::Multi(v) => v,
        }
    }
    pub fn is_multi(&self) -> bool {
        matches!(self, CtxValue::Multi(_))
    }
}

impl CtxValue {
    /// A context value written in JSON: a string, boolean or number, or a list
    /// of them. On a wrong type, the span of the offending node.
    pub fn from_json(n: &crate::json::Node) -> Result<CtxValue, crate::json::Span> {
        use crate::json::Value;
        let scalar = |n: &crate::json::Node| match &n.value {
            Value::String(s) => Ok(s.clone()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(raw, _) => Ok(raw.clone()),
            _ => Err(n.span),
        };
        match &n.value {
            Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Result<_, _>>()
                .map(CtxValue::Multi),
            _ => scalar(n).map(CtxValue::Single),
        }
    }
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Present(&'a CtxValue),
    Absent,
    /// The value is not known. `carried` says whether the key is known to be in
    /// the request (simulate's `unknown_keys`) or not even that.
    Unknown {
        carried: bool,
    },
}

/// What a key that was not mentioned at all means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Missing {
    /// Absent from the request (simulate: exactly as AWS treats it).
    #[default]
    Absent,
    /// Unknown (the doctor: a key it cannot derive may be in the real request).
    Unknown,
}

/// What the context says of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Value(CtxValue),
    /// Carried, value unknown.
    Unknown,
    /// Certainly not carried.
    Absent,
}

#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Every key something was said about, lower-cased, found by its
    /// `key_hash` (a condition's is computed once, when its policy is parsed):
    /// one lookup per condition answers present, unknown or absent.
    slots: hashbrown::HashTable<(String, Slot)>,
    unknown_prefixes: Vec<String>,
    absent_prefixes: Vec<String>,
    pub missing: Missing,
}

/// The hash a context finds a lower-cased key by.
#[inline]
pub fn key_hash(key_lc: &str) -> u64 {
    let mut h = FastHash::default();
    h.write(key_lc.as_bytes());
    h.finish()
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.slots.len() == other.slots.len()
            && self.slots.iter().all(|(k, v)| other.slot(k) == Some(v))
            && self.unknown_prefixes == other.unknown_prefixes
            && self.absent_prefixes == other.absent_prefixes
            && self.missing == other.missing
    }
}

impl Eq for Context {}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with_missing(missing: Missing) -> Self {
        Context {
            missing,
            ..Self::default()
        }
    }
    fn slot(&self, k: &str) -> Option<&Slot> {
        self.slots
            .find(key_hash(k), |(x, _)| super::matching::same(x, k))
            .map(|(_, v)| v)
    }
    /// Put `slot` under `k` (lower case); `keep`: leave an existing slot that
    /// says so in place.
    fn put(&mut self, k: String, slot: Slot, keep: impl Fn(&Slot) -> bool) {
        let h = key_hash(&k);
        match self.slots.entry(h, |(x, _)| *x == k, |(x, _)| key_hash(x)) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                if !keep(&o.get().1) {
                    o.get_mut().1 = slot;
                }
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert((k, slot));
            }
        }
    }
    /// Set a key's value (keys are case-insensitive).
    pub fn set(&mut self, key: &str, value: CtxValue) {
        self.put(key.to_ascii_lowercase(), Slot::Value(value), |_| false);
    }
    pub fn set_str(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, CtxValue::Single(value.into()));
    }
    /// Set a key's value unless the caller already said something about it
    /// (a value, unknown, or absent).
    pub fn set_default(&mut self, key: &str, value: CtxValue) {
        self.put(key.to_ascii_lowercase(), Slot::Value(value), |_| true);
    }
    /// The request carries this key, but its value is not known. A trailing
    /// `*` marks every key with that prefix.
    pub fn mark_unknown(&mut self, key: &str) {
        let k = key.to_ascii_lowercase();
        if let Some(prefix) = k.strip_suffix('*') {
            self.unknown_prefixes.push(prefix.to_string());
        } else {
            self.put(k, Slot::Unknown, |_| false);
        }
    }
    /// The request certainly does not carry this key (or prefix, with `*`).
    /// Unknown wins over absent, whatever the order they were said in.
    pub fn mark_absent(&mut self, key: &str) {
        let k = key.to_ascii_lowercase();
        if let Some(prefix) = k.strip_suffix('*') {
            self.absent_prefixes.push(prefix.to_string());
        } else {
            self.put(k, Slot::Absent, |s| *s == Slot::Unknown);
        }
    }
    pub fn get(&self, key: &str) -> Option<&CtxValue> {
        match self.slot(&key.to_ascii_lowercase()) {
            Some(Slot::Value(v)) => Some(v),
            _ => None,
        }
    }
    pub fn lookup(&self, key: &str) -> Lookup<'_> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.lookup_lc(&key.to_ascii_lowercase())
        } else {
            self.lookup_lc(key)
        }
    }

    /// `lookup` of a key already in lower case.
    pub fn lookup_lc(&self, k: &str) -> Lookup<'_> {
        self.lookup_hashed(k, key_hash(k))
    }

    /// `lookup_lc` with the key's `key_hash` already computed.
    pub fn lookup_hashed(&self, k: &str, hash: u64) -> Lookup<'_> {
        match self
            .slots
            .find(hash, |(x, _)| super::matching::same(x, k))
            .map(|(_, v)| v)
        {
            Some(Slot::Value(v)) => return Lookup::Present(v),
            Some(Slot::Unknown) => return Lookup::Unknown { carried: true },
            Some(Slot::Absent) => return Lookup::Absent,
            None => {}
        }
        if self.unknown_prefixes.iter().any(|p| k.starts_with(p)) {
            return Lookup::Unknown { carried: false };
        }
        if self.absent_prefixes.iter().any(|p| k.starts_with(p)) {
            return Lookup::Absent;
        }
        match self.missing {
            Missing::Absent => Lookup::Absent,
            Missing::Unknown => Lookup::Unknown { carried: false },
        }
    }
    /// The keys with values, in order.
    pub fn keys(&self) -> impl Iterator<Item = (&String, &CtxValue)> {
        let mut all: Vec<(&String, &CtxValue)> = self
            .slots
            .iter()
            .filter_map(|(k, s)| match s {
                Slot::Value(v) => Some((k, v)),
                _ => None,
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_the_hash_of_their_lower_case_form_and_order_does_not_matter() {
        let mut a = Context::new();
        a.set_str("aws:SourceVpce", "vpce-1");
        a.mark_unknown("s3:prefix");
        let mut b = Context::new();
        b.mark_unknown("S3:Prefix");
        b.set_str("AWS:SOURCEVPCE", "vpce-1");
        assert_eq!(a, b);
        let k = "aws:sourcevpce";
        assert!(matches!(
            a.lookup_hashed(k, key_hash(k)),
            Lookup::Present(_)
        ));
        assert_eq!(
            a.lookup_hashed("s3:prefix", key_hash("s3:prefix")),
            Lookup::Unknown { carried: true }
        );
        // keys that differ only past eight bytes, or by a trailing NUL, are apart
        a.set_str("aws:principalarn", "x");
        assert_eq!(a.lookup("aws:principalarm"), Lookup::Absent);
        a.set_str("k", "1");
        assert_eq!(a.lookup("k\0"), Lookup::Absent);
        b.set_str("k", "2");
        assert_ne!(a, b);
    }

    #[test]
    fn keys_are_case_insensitive() {
        let mut c = Context::new();
        c.set_str("aws:SourceVpce", "vpce-1");
        assert!(matches!(c.lookup("AWS:SOURCEVPCE"), Lookup::Present(_)));
    }

    #[test]
    fn unknown_beats_absent_whatever_the_order_and_a_value_beats_both() {
        let mut c = Context::new();
        c.mark_unknown("s3:x");
        c.mark_absent("s3:x");
        assert_eq!(c.lookup("s3:x"), Lookup::Unknown { carried: true });
        c.mark_absent("s3:y");
        c.mark_unknown("s3:y");
        assert_eq!(c.lookup("s3:y"), Lookup::Unknown { carried: true });
        c.set_default("s3:y", CtxValue::Single("v".into()));
        assert_eq!(c.lookup("s3:y"), Lookup::Unknown { carried: true });
        c.set_str("s3:y", "v");
        assert!(matches!(c.lookup("S3:Y"), Lookup::Present(_)));
    }

    #[test]
    fn missing_policy_decides_unmentioned_keys() {
        let mut c = Context::with_missing(Missing::Unknown);
        c.mark_absent("s3:x-amz-server-side-encryption*");
        assert_eq!(c.lookup("aws:SourceIp"), Lookup::Unknown { carried: false });
        assert_eq!(
            c.lookup("s3:x-amz-server-side-encryption-aws-kms-key-id"),
            Lookup::Absent
        );
        let c = Context::new();
        assert_eq!(c.lookup("aws:SourceIp"), Lookup::Absent);
    }
}
