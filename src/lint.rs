//! `xacct lint FILE...`: grammar errors (what AWS would refuse to store) and the
//! known traps (what it stores but does not do what it seems to), each pointed
//! at its span with a fix. The rules live in the policy layer (`policy::parse`,
//! `policy::lint`); this module reads files, picks the kind and renders.
//!
//! Exit: 0 clean, 1 findings, 2 a file that cannot be read or is not JSON.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, SourceCode};
use serde_json::json;

use crate::cli::{LintArgs, LintFormat, LintKind};
use crate::diag::{self, Located};
use crate::exit;
use crate::json::{self, Span};
use crate::policy::lint::{self as traps, Guess};
use crate::policy::{Defect, ParseOptions, PolicyKind, Severity, Source};

pub fn run(args: &LintArgs) -> u8 {
    let color = args.format == LintFormat::Text
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let results: Vec<FileResult> = args.files.iter().map(|f| lint_file(f, args.kind)).collect();
    let out = match args.format {
        LintFormat::Text => render_text(&results, color),
        LintFormat::Json => render_json(&results),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    exit_code(&results)
}

/// The outcome for one file.
#[derive(Debug)]
pub enum FileResult {
    /// Could not be read, or is not JSON (the error points at the spot when
    /// there is one).
    Unreadable { file: String, error: Box<Located> },
    Linted {
        file: String,
        source: Arc<Source>,
        kind: PolicyKind,
        /// How the kind was guessed (None when given with --kind).
        guessed: Option<Guess>,
        defects: Vec<Defect>,
    },
}

pub fn exit_code(results: &[FileResult]) -> u8 {
    if results
        .iter()
        .any(|r| matches!(r, FileResult::Unreadable { .. }))
    {
        exit::INPUT
    } else if results
        .iter()
        .any(|r| matches!(r, FileResult::Linted { defects, .. } if !defects.is_empty()))
    {
        1
    } else {
        0
    }
}

fn policy_kind(k: LintKind) -> PolicyKind {
    match k {
        LintKind::Identity => PolicyKind::Identity,
        LintKind::Bucket => PolicyKind::Bucket,
        LintKind::Key => PolicyKind::Key,
        LintKind::Trust => PolicyKind::Trust,
        LintKind::Scp => PolicyKind::Scp,
        LintKind::Rcp => PolicyKind::Rcp,
    }
}

pub fn lint_file(path: &Path, kind: Option<LintKind>) -> FileResult {
    let name = path.display().to_string();
    let unreadable =
        |source: Arc<Source>, span: Span, message: String, help: &str| FileResult::Unreadable {
            file: name.clone(),
            error: Box::new(Located::new(&source, span, message).help(help)),
        };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return unreadable(
                Source::new(name.clone(), ""),
                Span::default(),
                format!("cannot read {name}: {e}"),
                "",
            );
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let at = text
                .char_indices()
                .map(|(i, _)| i)
                .find(|i| *i >= at)
                .unwrap_or(text.len());
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            return unreadable(
                Source::new(name.clone(), text),
                Span::new(at, end),
                format!("{name} is not UTF-8 text"),
                "save the policy as UTF-8 JSON",
            );
        }
    };
    lint_text(&name, &text, kind)
}

/// Lint a policy given as text (the file's name is for the messages).
pub fn lint_text(name: &str, text: &str, kind: Option<LintKind>) -> FileResult {
    let source = Source::new(name, text);
    let root = match json::parse(text) {
        Ok(n) => n,
        Err(e) => {
            let mut span = e.span;
            if span.is_empty() && span.end < text.len() {
                let len = text[span.end..].chars().next().map_or(0, char::len_utf8);
                span = Span::new(span.start, span.end + len);
            }
            return FileResult::Unreadable {
                file: name.to_string(),
                error: Box::new(
                    Located::new(&source, span, format!("{name} is not JSON: {}", e.message))
                        .help("a policy is a JSON document; AWS stores nothing else"),
                ),
            };
        }
    };
    let (kind, guessed, bucket) = match kind {
        Some(k) => {
            let k = policy_kind(k);
            let bucket = (k == PolicyKind::Bucket)
                .then(|| traps::bucket_of(&root))
                .flatten();
            (k, None, bucket)
        }
        None => {
            let g = traps::guess_kind(&root);
            (g.kind, Some(g.clone()), g.bucket)
        }
    };
    let opts = match &bucket {
        Some(b) => ParseOptions::bucket(b),
        None => ParseOptions::new(kind),
    };
    let policy = crate::policy::parse_node(&root, source.clone(), &opts);
    FileResult::Linted {
        file: name.to_string(),
        source,
        kind,
        guessed,
        defects: traps::check(&policy),
    }
}

fn kind_phrase(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "an identity policy",
        PolicyKind::Boundary => "a permissions boundary",
        PolicyKind::Session => "a session policy",
        PolicyKind::Resource => "a resource policy",
        PolicyKind::Bucket => "a bucket policy",
        PolicyKind::Key => "a key policy",
        PolicyKind::Trust => "a role trust policy",
        PolicyKind::Scp => "a service control policy",
        PolicyKind::Rcp => "a resource control policy",
        PolicyKind::Endpoint => "a VPC endpoint policy",
    }
}

/// One defect as a miette diagnostic: severity and code shown, span underlined.
#[derive(Debug)]
struct DefectDiag {
    located: Located,
    code: &'static str,
    severity: Severity,
}

impl fmt::Display for DefectDiag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.located.message)
    }
}

impl std::error::Error for DefectDiag {}

impl Diagnostic for DefectDiag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Diagnostic::help(&self.located)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Diagnostic::source_code(&self.located)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = match self.severity {
            Severity::Error => "AWS rejects this",
            Severity::Warning => "this",
        };
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label.into()),
            self.located.shown_span(),
        ))))
    }
}

fn counts(defects: &[Defect]) -> (usize, usize) {
    let e = defects
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (e, defects.len() - e)
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// Problems drawn per file; a hostile document can have hundreds of
/// thousands, and the summary line still counts them all.
const MAX_SHOWN: usize = 50;

pub fn render_text(results: &[FileResult], color: bool) -> String {
    let mut out = String::new();
    let (mut errors, mut warnings, mut unreadable) = (0, 0, 0);
    for r in results {
        match r {
            FileResult::Unreadable { file, error } => {
                unreadable += 1;
                if error.source.text.is_empty() {
                    out.push_str(&format!("error: {}\n", error.message));
                } else {
                    out.push_str(&diag::render(error.as_ref(), color));
                }
                out.push_str(&format!("{file}: unreadable\n\n"));
            }
            FileResult::Linted {
                file,
                source,
                kind,
                guessed,
                defects,
            } => {
                for d in defects.iter().take(MAX_SHOWN) {
                    let dd = DefectDiag {
                        located: Located::new(source, d.span, d.message.clone())
                            .help(d.help.clone()),
                        code: d.code,
                        severity: d.severity,
                    };
                    out.push_str(&diag::render(&dd, color));
                    out.push('\n');
                }
                if defects.len() > MAX_SHOWN {
                    out.push_str(&format!(
                        "... and {} more not shown (--format json lists them all)\n\n",
                        defects.len() - MAX_SHOWN
                    ));
                }
                let (e, w) = counts(defects);
                errors += e;
                warnings += w;
                let how = match guessed {
                    Some(g) => format!(" (guessed: {}; say otherwise with --kind)", g.reason),
                    None => String::new(),
                };
                let mut parts = Vec::new();
                if e > 0 {
                    parts.push(format!(
                        "{} (AWS would reject the document)",
                        plural(e, "error")
                    ));
                }
                if w > 0 {
                    parts.push(format!("{} (traps AWS accepts)", plural(w, "warning")));
                }
                let verdict = if parts.is_empty() {
                    "clean".to_string()
                } else {
                    parts.join(", ")
                };
                out.push_str(&format!("{file}: {}{how}: {verdict}\n", kind_phrase(*kind)));
                if !defects.is_empty() {
                    out.push('\n');
                }
            }
        }
    }
    if results.len() > 1 {
        out.push_str(&format!(
            "{} linted: {}, {}{}\n",
            plural(results.len(), "file"),
            plural(errors, "error"),
            plural(warnings, "warning"),
            if unreadable > 0 {
                format!(", {unreadable} unreadable")
            } else {
                String::new()
            }
        ));
    }
    out
}

fn position(source: &Source, index: &json::LineIndex, span: Span) -> serde_json::Value {
    let (line, column) = index.line_col(&source.text, span.start);
    let (end_line, end_column) = index.line_col(&source.text, span.end);
    json!({
        "line": line, "column": column, "end_line": end_line, "end_column": end_column,
        "start": span.start, "end": span.end,
    })
}

pub fn render_json(results: &[FileResult]) -> String {
    let files: Vec<serde_json::Value> = results
        .iter()
        .map(|r| match r {
            FileResult::Unreadable { file, error } => json!({
                "file": file,
                "status": "unreadable",
                "error": error.message,
                "at": (!error.source.text.is_empty()).then(|| {
                    position(&error.source, &json::LineIndex::new(&error.source.text), error.span)
                }),
            }),
            FileResult::Linted {
                file,
                source,
                kind,
                guessed,
                defects,
            } => {
                let index = json::LineIndex::new(&source.text);
                json!({
                "file": file,
                "status": if defects.is_empty() { "clean" } else { "findings" },
                "kind": kind.name(),
                "kind_guessed": guessed.as_ref().map(|g| g.reason),
                "findings": defects.iter().map(|d| json!({
                    "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                    "code": d.code,
                    "message": d.message,
                    "help": d.help,
                    "at": position(source, &index, d.span),
                    "text": source.text.get(d.span.start..d.span.end).unwrap_or(""),
                })).collect::<Vec<_>>(),
            })
            }
        })
        .collect();
    let out = json!({ "format": "xacct-lint/1", "files": files, "exit_code": exit_code(results) });
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_json_points_at_the_spot() {
        let r = lint_text("p.json", "{\"Version\": \"2012-10-17\",, }", None);
        let FileResult::Unreadable { error, .. } = &r else {
            panic!("expected unreadable, got {r:?}");
        };
        assert_eq!(error.span.start, 25);
        assert_eq!(exit_code(&[r]), exit::INPUT);
    }

    #[test]
    fn clean_policy_exits_zero() {
        let t = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}"#;
        let r = lint_text("p.json", t, None);
        assert_eq!(exit_code(&[r]), 0);
    }

    #[test]
    fn hostile_input_never_panics() {
        for t in [
            "",
            "[]",
            "null",
            "\"x\"",
            "{\"Statement\": 5}",
            "{\"Statement\": [{\"Principal\": {\"AWS\": [1, null]}, \"Action\": {}}]}",
            "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::\"}]}",
            "{\"Statement\": [{\"Resource\": \"${\", \"Action\": \"kms:Decrypt\"}]}",
            &"[".repeat(10_000),
        ] {
            for k in [None, Some(LintKind::Bucket), Some(LintKind::Key)] {
                let r = lint_text("p.json", t, k);
                let _ = render_text(std::slice::from_ref(&r), false);
                let _ = render_json(std::slice::from_ref(&r));
            }
        }
    }
}
