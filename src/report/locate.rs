//! Where evidence is, in text: byte ranges in the snapshot file for SARIF
//! regions, and excerpts of the policy text (the statement, with the evidence
//! underlined) for the HTML report.
//!
//! A policy that the snapshot holds as a JSON object is parsed straight from
//! the snapshot's text, so its evidence spans are snapshot offsets. A policy
//! held as a JSON *string* is parsed from the decoded string: its spans are
//! offsets into that string, and are mapped back through the string literal's
//! escapes to the snapshot's bytes.

use std::ops::Range;
use std::sync::Arc;

use crate::checks::{Evidence, Finding};
use crate::json::{self, Node, Value};
use crate::policy::Source;

use super::Report;

/// A range as 1-based lines and columns; columns count Unicode code points
/// and the end column is the one just after the range (SARIF's convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCols {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

fn line_col_chars(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

pub fn line_cols(text: &str, r: &Range<usize>) -> LineCols {
    let (start_line, start_column) = line_col_chars(text, r.start);
    let (end_line, end_column) = line_col_chars(text, r.end);
    LineCols {
        start_line,
        start_column,
        end_line,
        end_column,
    }
}

/// For a JSON string literal (quotes included), the raw offset of each byte
/// of the decoded string, plus one entry for its end (the closing quote).
fn literal_offsets(raw: &str) -> Option<Vec<usize>> {
    let b = raw.as_bytes();
    if b.len() < 2 || b[0] != b'"' || b[b.len() - 1] != b'"' {
        return None;
    }
    let mut map = Vec::with_capacity(raw.len());
    let mut i = 1;
    let end = b.len() - 1;
    while i < end {
        if b[i] != b'\\' {
            map.push(i);
            i += 1;
            continue;
        }
        let esc = *b.get(i + 1)?;
        let (decoded_len, raw_len) = match esc {
            b'u' => {
                let hex = raw.get(i + 2..i + 6)?;
                let hi = u32::from_str_radix(hex, 16).ok()?;
                if (0xD800..0xDC00).contains(&hi) {
                    (4, 12) // a surrogate pair: one 4-byte character
                } else {
                    (char::from_u32(hi)?.len_utf8(), 6)
                }
            }
            _ => (1, 2),
        };
        map.extend(std::iter::repeat_n(i, decoded_len));
        i += raw_len;
    }
    map.push(end);
    Some(map)
}

/// The snapshot file's text, parsed once, to place evidence in it.
pub struct SnapshotIndex {
    pub source: Arc<Source>,
    root: Option<Node>,
}

impl SnapshotIndex {
    pub fn new(r: &Report) -> Option<SnapshotIndex> {
        let source = r.snapshot_source.clone()?;
        let root = json::parse(&source.text).ok();
        Some(SnapshotIndex { source, root })
    }

    pub fn text(&self) -> &str {
        &self.source.text
    }

    /// Is this evidence source the snapshot file itself?
    fn is_snapshot(&self, src: &Source) -> bool {
        src.name == self.source.name && src.text == self.source.text
    }

    /// The span of the value at a JSON pointer of the snapshot.
    pub fn pointer(&self, ptr: &str) -> Option<Range<usize>> {
        let n = json::pointer(self.root.as_ref()?, ptr)?;
        Some(n.span.start..n.span.end)
    }

    /// Where a piece of evidence is in the snapshot: its exact span when it has
    /// one, else the statement, else the document.
    pub fn locate(&self, e: &Evidence) -> Option<Range<usize>> {
        if let Some((src, span)) = &e.span
            && self.is_snapshot(src)
            && span.end <= self.source.text.len()
        {
            return Some(span.start..span.end);
        }
        let doc_ptr = e.pointer.as_deref()?;
        let doc = json::pointer(self.root.as_ref()?, doc_ptr)?;
        match &doc.value {
            Value::String(decoded) => {
                let raw = self.source.text.get(doc.span.start..doc.span.end)?;
                let whole = doc.span.start..doc.span.end;
                let Some(map) = literal_offsets(raw).filter(|m| m.len() == decoded.len() + 1)
                else {
                    return Some(whole);
                };
                let inner = match &e.span {
                    Some((src, span)) if src.text == *decoded && span.end <= decoded.len() => {
                        Some(span.start..span.end)
                    }
                    _ => e.statement.as_deref().and_then(|st| {
                        let root = json::parse(decoded).ok()?;
                        let n = json::pointer(&root, st)?;
                        Some(n.span.start..n.span.end)
                    }),
                };
                Some(match inner {
                    Some(r) => doc.span.start + map[r.start]..doc.span.start + map[r.end],
                    None => whole,
                })
            }
            _ => {
                let st = e
                    .statement
                    .as_deref()
                    .and_then(|st| self.pointer(&format!("{doc_ptr}{st}")));
                Some(st.unwrap_or(doc.span.start..doc.span.end))
            }
        }
    }
}

/// A cut of a policy text: whole lines around a statement, with the evidence
/// spans inside it marked.
#[derive(Debug, Clone)]
pub struct Excerpt {
    /// The document's name (the evidence source's name).
    pub source: String,
    pub first_line: usize,
    pub last_line: usize,
    pub text: String,
    /// Byte ranges inside `text`, with the evidence note.
    pub marks: Vec<(Range<usize>, String)>,
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |p| p + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |p| at + p)
}

/// The sources evidence cites, parsed once for all the findings of a report
/// (a 10 MiB snapshot cited by every finding is parsed once, not per finding).
#[derive(Default)]
pub struct Parsed(Vec<(Arc<Source>, Option<Node>)>);

/// The excerpts of a finding's evidence (grouped: one per statement) and the
/// evidence that has no text to show.
pub fn excerpts<'f>(f: &'f Finding, parsed: &mut Parsed) -> (Vec<Excerpt>, Vec<&'f Evidence>) {
    let parsed = &mut parsed.0;
    let mut out: Vec<(usize, Range<usize>, Excerpt)> = Vec::new();
    let mut bare = Vec::new();
    for e in &f.evidence {
        let Some((src, span)) = &e.span else {
            bare.push(e);
            continue;
        };
        let text = src.text.as_str();
        if span.end > text.len()
            || !text.is_char_boundary(span.start)
            || !text.is_char_boundary(span.end)
        {
            bare.push(e);
            continue;
        }
        if !parsed.iter().any(|(s, _)| Arc::ptr_eq(s, src)) {
            parsed.push((src.clone(), json::parse(text).ok()));
        }
        let root = parsed
            .iter()
            .find(|(s, _)| Arc::ptr_eq(s, src))
            .and_then(|(_, n)| n.as_ref());
        // the statement: relative to the document when the source is a policy
        // string, or under the document's pointer when it is the snapshot
        let statement = root.and_then(|root| {
            let st = e.statement.as_deref()?;
            let candidates = [
                e.pointer.as_deref().map(|p| format!("{p}{st}")),
                Some(st.to_string()),
            ];
            candidates.into_iter().flatten().find_map(|p| {
                json::pointer(root, &p)
                    .filter(|n| n.span.start <= span.start && span.end <= n.span.end)
                    .map(|n| n.span.start..n.span.end)
            })
        });
        let around = statement.unwrap_or(span.start..span.end);
        let cut = line_start(text, around.start)..line_end(text, around.end);
        let key = Arc::as_ptr(src) as usize;
        let mark = span.start - cut.start..span.end - cut.start;
        let whole = text[cut.clone()].trim();
        let marks_all = text[span.start..span.end].trim() == whole;
        match out.iter_mut().find(|(k, c, _)| *k == key && *c == cut) {
            Some((_, _, x)) => {
                if !marks_all {
                    x.marks.push((mark, e.note.clone()));
                }
            }
            None => {
                let (first_line, _) = json::line_col(text, cut.start);
                let (last_line, _) = json::line_col(text, cut.end);
                out.push((
                    key,
                    cut.clone(),
                    Excerpt {
                        source: src.name.clone(),
                        first_line,
                        last_line,
                        text: text[cut].to_string(),
                        marks: if marks_all {
                            Vec::new()
                        } else {
                            vec![(mark, e.note.clone())]
                        },
                    },
                ));
            }
        }
    }
    let mut excerpts: Vec<Excerpt> = out.into_iter().map(|(_, _, x)| x).collect();
    for x in &mut excerpts {
        x.marks.sort_by_key(|(r, _)| (r.start, r.end));
        dedent(x);
    }
    (excerpts, bare)
}

/// Remove the indentation all lines of an excerpt share, moving the marks.
fn dedent(x: &mut Excerpt) {
    let indent = x
        .text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    if indent == 0 {
        return;
    }
    // (offset in the old text where a line starts, bytes removed there)
    let mut cuts = Vec::new();
    let mut text = String::with_capacity(x.text.len());
    let mut at = 0;
    for line in x.text.split_inclusive('\n') {
        let n = (line.len() - line.trim_start_matches(' ').len()).min(indent);
        cuts.push((at, n));
        text.push_str(&line[n..]);
        at += line.len();
    }
    let moved = |o: usize| {
        o - cuts
            .iter()
            .take_while(|(start, _)| *start <= o)
            .map(|(start, n)| (*n).min(o - start))
            .sum::<usize>()
    };
    for (r, _) in &mut x.marks {
        *r = moved(r.start)..moved(r.end);
    }
    x.text = text;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_offsets_follow_escapes() {
        // "a\n\u00e9’b": a, newline, é (2 bytes), ’ (3 bytes), b
        let raw = "\"a\\n\\u00e9’b\"";
        let map = literal_offsets(raw).unwrap();
        assert_eq!(map, vec![1, 2, 4, 4, 10, 11, 12, 13, 14]);
        let pair = "\"\\ud83d\\ude00x\"";
        assert_eq!(literal_offsets(pair).unwrap(), vec![1, 1, 1, 1, 13, 14]);
    }

    #[test]
    fn dedent_moves_the_marks() {
        let mut x = Excerpt {
            source: "p".into(),
            first_line: 1,
            last_line: 3,
            text: "    {\n      \"a\": 1\n    }".into(),
            marks: vec![(12..15, "n".into())],
        };
        assert_eq!(&x.text[12..15], "\"a\"");
        dedent(&mut x);
        assert_eq!(x.text, "{\n  \"a\": 1\n}");
        assert_eq!(&x.text[x.marks[0].0.clone()], "\"a\"");
    }

    #[test]
    fn columns_count_code_points() {
        let t = "ab\n’x’yz";
        let lc = line_cols(t, &(t.find('x').unwrap()..t.find('y').unwrap()));
        assert_eq!(
            lc,
            LineCols {
                start_line: 2,
                start_column: 2,
                end_line: 2,
                end_column: 4
            }
        );
    }

    #[test]
    fn evidence_in_a_policy_string_maps_into_the_snapshot() {
        let r = super::super::chain::tests::walkthrough("as-published");
        let idx = SnapshotIndex::new(&r).unwrap();
        let xa002 = r.checks.iter().find(|f| f.id == "XA002").unwrap();
        let at = idx.locate(&xa002.evidence[0]).unwrap();
        assert_eq!(
            &idx.text()[at],
            r#"\"arn:aws:iam:::role/Bob’s_Data_Access_Role\""#
        );
    }
}
