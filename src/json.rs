//! A small JSON parser that keeps the byte span of every value and object key.
//!
//! serde_json forgets where things were; xacct's diagnostics point at the exact
//! statement or field, so policies and snapshots are parsed with this instead.
//! It is strict (RFC 8259: no trailing commas, no comments), bounded in depth so
//! hostile input cannot overflow the stack, and keeps duplicate keys so callers
//! can report them.

use std::fmt;

/// Byte offsets `[start, end)` into the parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Shift a span that is relative to an inner text (e.g. a JSON string's
    /// content) so it is relative to the outer text.
    pub fn offset(self, by: usize) -> Span {
        Span::new(self.start + by, self.end + by)
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.len()).into()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number's text exactly as written, and its value.
    Number(String, f64),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Deepest nesting accepted. AWS policies are a handful of levels deep; a
/// snapshot about ten. Anything deeper is hostile or broken.
pub const MAX_DEPTH: usize = 128;

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    /// The first member with this exact key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }
    pub fn type_name(&self) -> &'static str {
        self.value.type_name()
    }

    /// Convert to a serde_json value (spans dropped).
    pub fn to_serde(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(raw, f) => serde_json::from_str::<serde_json::Number>(raw)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|_| {
                    serde_json::Number::from_f64(*f)
                        .map(serde_json::Value::Number)
                        .unwrap_or(serde_json::Value::Null)
                }),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Node::to_serde).collect()),
            Value::Object(m) => serde_json::Value::Object(
                m.iter()
                    .map(|m| (m.key.clone(), m.value.to_serde()))
                    .collect(),
            ),
        }
    }
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(..) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Parse a complete JSON text.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.i < p.s.len() {
        return Err(p.err_at(p.i, "unexpected text after the JSON value"));
    }
    Ok(node)
}

/// Parse bytes, reporting invalid UTF-8 at its offset.
pub fn parse_bytes(bytes: &[u8]) -> Result<Node, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let at = e.valid_up_to();
            Err(ParseError {
                message: format!("invalid UTF-8 at byte {at}"),
                span: Span::new(at, at + e.error_len().unwrap_or(1).min(bytes.len() - at)),
            })
        }
    }
}

/// What a character that cannot start a value (or a key) probably is: text
/// pasted from a word processor or saved by an editor that adds a BOM.
fn char_hint(ch: char) -> &'static str {
    match ch {
        '\u{2018}' | '\u{2019}' | '\u{201C}' | '\u{201D}' => {
            " (a typographic quote: JSON needs straight quotes \")"
        }
        '\'' => " (JSON strings use double quotes)",
        '\u{FEFF}' => " (a byte order mark: save the file as UTF-8 without BOM)",
        _ => "",
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn err_at(&self, at: usize, msg: impl Into<String>) -> ParseError {
        let end = if at < self.s.len() {
            // cover one whole character
            let mut e = at + 1;
            while e < self.s.len() && !self.text.is_char_boundary(e) {
                e += 1;
            }
            e
        } else {
            at
        };
        ParseError {
            message: msg.into(),
            span: Span::new(at, end),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err_at(
                self.i,
                format!("JSON nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let start = self.i;
        let Some(&c) = self.s.get(self.i) else {
            return Err(self.err_at(self.i, "unexpected end of input: expected a value"));
        };
        let value = match c {
            b'{' => self.object(depth)?,
            b'[' => self.array(depth)?,
            b'"' => Value::String(self.string()?),
            b't' => self.literal("true", Value::Bool(true))?,
            b'f' => self.literal("false", Value::Bool(false))?,
            b'n' => self.literal("null", Value::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => {
                let ch = self.text[self.i..].chars().next().unwrap_or('?');
                return Err(self.err_at(
                    self.i,
                    format!("unexpected character {ch:?}{}", char_hint(ch)),
                ));
            }
        };
        Ok(Node {
            value,
            span: Span::new(start, self.i),
        })
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, ParseError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err_at(self.i, format!("invalid literal: expected `{word}`")))
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return Err(self.err_at(self.i, "invalid number")),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.err_at(self.i, "invalid number: digit expected after `.`"));
            }
            while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.err_at(self.i, "invalid number: digit expected in exponent"));
            }
            while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        let raw = &self.text[start..self.i];
        let f = raw.parse::<f64>().unwrap_or(f64::NAN);
        Ok(Value::Number(raw.to_string(), f))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let open = self.i;
        self.i += 1; // opening quote
        let mut out = String::new();
        let mut first = true;
        loop {
            let run_start = self.i;
            while let Some(&c) = self.s.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            if first {
                first = false;
                // most strings have no escape: one allocation of their size
                if self.s.get(self.i) == Some(&b'"') {
                    let whole = self.text[run_start..self.i].to_string();
                    self.i += 1;
                    return Ok(whole);
                }
            }
            out.push_str(&self.text[run_start..self.i]);
            match self.s.get(self.i) {
                None => return Err(self.err_at(open, "unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc_at = self.i;
                    self.i += 1;
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.err_at(open, "unterminated string"));
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4(esc_at)?;
                            let ch = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.i) == Some(&b'\\')
                                    && self.s.get(self.i + 1) == Some(&b'u')
                                {
                                    self.i += 2;
                                    let lo = self.hex4(esc_at)?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.err_at(esc_at, "invalid surrogate pair"));
                                    }
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            match ch {
                                Some(c) => out.push(c),
                                None => {
                                    return Err(self.err_at(
                                        esc_at,
                                        "invalid unicode escape (lone surrogate)",
                                    ));
                                }
                            }
                        }
                        _ => return Err(self.err_at(esc_at, "invalid escape sequence")),
                    }
                }
                Some(_) => {
                    return Err(self.err_at(self.i, "control character inside a string"));
                }
            }
        }
    }

    fn hex4(&mut self, esc_at: usize) -> Result<u32, ParseError> {
        let Some(digits) = self.s.get(self.i..self.i + 4) else {
            return Err(self.err_at(esc_at, "invalid unicode escape"));
        };
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err_at(esc_at, "invalid unicode escape"))?;
            v = v * 16 + n;
        }
        self.i += 4;
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.s.get(self.i) {
                Some(b',') => {
                    self.i += 1;
                    self.skip_ws();
                    if self.s.get(self.i) == Some(&b']') {
                        return Err(self.err_at(self.i - 1, "trailing comma in array"));
                    }
                }
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                None => {
                    return Err(self.err_at(self.i, "unexpected end of input: expected `,` or `]`"));
                }
                _ => return Err(self.err_at(self.i, "expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.i += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            let key_start = self.i;
            match self.s.get(self.i) {
                Some(b'"') => {}
                None => return Err(self.err_at(self.i, "unexpected end of input: expected a key")),
                _ => {
                    let ch = self.text[self.i..].chars().next().unwrap_or('?');
                    return Err(self.err_at(
                        self.i,
                        format!("expected a string key in object{}", char_hint(ch)),
                    ));
                }
            }
            let key = self.string()?;
            let key_span = Span::new(key_start, self.i);
            self.skip_ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err_at(self.i, "expected `:` after object key"));
            }
            self.i += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_ws();
            match self.s.get(self.i) {
                Some(b',') => {
                    self.i += 1;
                    self.skip_ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        return Err(self.err_at(self.i - 1, "trailing comma in object"));
                    }
                }
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(members));
                }
                None => {
                    return Err(self.err_at(self.i, "unexpected end of input: expected `,` or `}`"));
                }
                _ => return Err(self.err_at(self.i, "expected `,` or `}` in object")),
            }
        }
    }
}

/// Find the member for a JSON pointer (RFC 6901) and return its span.
pub fn pointer<'a>(root: &'a Node, ptr: &str) -> Option<&'a Node> {
    if ptr.is_empty() {
        return Some(root);
    }
    let mut node = root;
    for raw in ptr.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        node = match &node.value {
            Value::Object(members) => &members.iter().find(|m| m.key == token)?.value,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Escape one JSON pointer token.
pub fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// 1-based line and column of a byte offset.
/// Where each line of a text starts, so that many offsets can be turned into
/// lines and columns without rescanning the text for each (a hostile
/// one-line document may have hundreds of thousands of problems).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The same as [`line_col`], in O(log lines).
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line.saturating_sub(1)];
        (line, offset - start + 1)
    }
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    // inside a character: count from its first byte (never slice through it)
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |p| before.len() - p - 1)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values_and_keys() {
        let t = r#"{"a": [1, "x"], "b": {"c": null}}"#;
        let n = parse(t).unwrap();
        let a = n.get("a").unwrap();
        assert_eq!(&t[a.span.start..a.span.end], r#"[1, "x"]"#);
        let m = &n.as_object().unwrap()[1];
        assert_eq!(&t[m.key_span.start..m.key_span.end], r#""b""#);
        assert_eq!(pointer(&n, "/a/1").unwrap().as_str(), Some("x"));
        assert!(pointer(&n, "/b/c").unwrap().is_null());
    }

    #[test]
    fn rejects_trailing_commas_and_reports_where() {
        let e = parse(r#"{"a": 1,}"#).unwrap_err();
        assert!(e.message.contains("trailing comma"), "{e}");
        assert_eq!(e.span.start, 7);
        assert!(parse("[1,]").is_err());
        assert!(parse("{} x").is_err());
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper"));
    }

    #[test]
    fn decodes_escapes_and_surrogates() {
        let n = parse(r#""a\u00e9\ud83d\ude00\n""#).unwrap();
        assert_eq!(n.as_str(), Some("a\u{e9}\u{1F600}\n"));
        assert!(parse(r#""\ud83d""#).is_err());
    }

    #[test]
    fn typographic_quote_is_explained() {
        let e = parse("{\u{201C}a\u{201D}: 1}").unwrap_err();
        assert!(e.message.contains("expected a string key"), "{e}");
        assert!(e.message.contains("typographic"), "{e}");
        let e = parse("\u{FEFF}{}").unwrap_err();
        assert!(e.message.contains("byte order mark"), "{e}");
        let e = parse("[\u{201C}a\u{201D}]").unwrap_err();
        assert!(e.message.contains("typographic"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let e = parse_bytes(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e.span.start, 7);
    }

    #[test]
    fn line_index_agrees_with_line_col() {
        let text = "ab\n\ncd\u{e9}\nx";
        let idx = LineIndex::new(text);
        for off in 0..=text.len() + 2 {
            assert_eq!(idx.line_col(text, off), line_col(text, off), "{off}");
        }
    }

    #[test]
    fn keeps_duplicate_keys() {
        let n = parse(r#"{"a": 1, "a": 2}"#).unwrap();
        assert_eq!(n.as_object().unwrap().len(), 2);
    }
}
