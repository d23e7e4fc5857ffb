//! The terminal report: the chain as a table in catalog order, the verdict,
//! then a diagnostic per failing or unknown link that shows the policy text
//! with the statement underlined, and the fix.

use std::fmt;
use std::sync::Arc;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use miette::{Diagnostic, LabeledSpan, Severity, SourceCode};

use crate::checks::{Finding, Status, Verdict};
use crate::policy::Source;

use super::Report;

pub struct Style {
    pub color: bool,
    pub width: u16,
}

fn status_cell(s: Status, color: bool) -> Cell {
    let c = Cell::new(s.as_str().to_uppercase());
    if !color {
        return c;
    }
    c.fg(match s {
        Status::Pass => Color::Green,
        Status::Fail => Color::Red,
        Status::Warn => Color::Yellow,
        Status::Unknown => Color::Magenta,
        Status::Skip => Color::DarkGrey,
    })
}

fn one_line(s: &str, max: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() <= max {
        return s;
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Shorten ARNs for the table: `key/8d3a6f2e…`, `role/Name`.
fn abbreviate(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let (core, tail) =
                match w.find(|c: char| matches!(c, ',' | ';' | ')' | ':') && w.ends_with(c)) {
                    Some(i) if i + 1 == w.len() => (&w[..i], &w[i..]),
                    _ => (w, ""),
                };
            if !core.starts_with("arn:aws:") {
                return w.to_string();
            }
            let res = core.splitn(6, ':').nth(5).unwrap_or(core);
            let short = match res.split_once('/') {
                Some(("key", id)) if id.len() > 8 => format!("key/{}…", &id[..8]),
                Some(("role", path)) => format!("role/{}", path.rsplit('/').next().unwrap_or(path)),
                _ => res.to_string(),
            };
            format!("{short}{tail}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn table(r: &Report, style: &Style) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec!["ID", "Link", "Acct", "Status", "Why"]);
    // one line per link: the reason is cut to what the terminal has left
    let link_w = r
        .checks
        .iter()
        .map(|f| f.info().link.chars().count())
        .max()
        .unwrap_or(20);
    let why_w = (style.width as usize)
        .saturating_sub(5 + link_w + 4 + 7 + 16)
        .max(30);
    if !style.color {
        t.force_no_tty();
    }
    for f in &r.checks {
        let info = f.info();
        t.add_row(vec![
            Cell::new(f.id),
            Cell::new(info.link),
            Cell::new(match info.side {
                crate::checks::Side::A => "A",
                crate::checks::Side::B => "B",
                crate::checks::Side::Both => "A+B",
            }),
            status_cell(f.status, style.color),
            Cell::new(one_line(&abbreviate(&f.message), why_w)),
        ]);
    }
    t.to_string()
}

pub fn verdict_line(r: &Report) -> String {
    let ids = |st: Status| -> Vec<&str> {
        r.checks
            .iter()
            .filter(|f| f.status == st)
            .map(|f| f.id)
            .collect()
    };
    match r.verdict {
        Verdict::Ready => format!(
            "Verdict: READY — every link of the chain holds{}.",
            if r.summary.warn > 0 {
                format!(
                    " ({} warning(s): {})",
                    r.summary.warn,
                    ids(Status::Warn).join(", ")
                )
            } else {
                String::new()
            }
        ),
        Verdict::Blocked => format!(
            "Verdict: BLOCKED — the copy will fail: {} link(s) broken ({}){}.",
            r.summary.fail,
            ids(Status::Fail).join(", "),
            if r.summary.unknown > 0 {
                format!(
                    "; {} undecided ({})",
                    r.summary.unknown,
                    ids(Status::Unknown).join(", ")
                )
            } else {
                String::new()
            }
        ),
        Verdict::Inconclusive => format!(
            "Verdict: INCONCLUSIVE — nothing is known to be broken, but {} link(s) cannot be decided ({}).",
            r.summary.unknown,
            ids(Status::Unknown).join(", ")
        ),
    }
}

/// A finding as a miette diagnostic.
struct FindingDiag<'a> {
    f: &'a Finding,
    source: Option<Arc<Source>>,
    labels: Vec<LabeledSpan>,
    help: String,
}

impl fmt::Debug for FindingDiag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.f.id)
    }
}

impl fmt::Display for FindingDiag<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(out, "{}: {}", self.f.status.as_str(), self.f.message)
    }
}

impl std::error::Error for FindingDiag<'_> {}

impl Diagnostic for FindingDiag<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("{} {}", self.f.id, self.f.slug)))
    }
    fn severity(&self) -> Option<Severity> {
        Some(match self.f.status {
            Status::Fail => Severity::Error,
            Status::Unknown | Status::Warn => Severity::Warning,
            _ => Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.help.is_empty()).then(|| Box::new(&self.help) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_deref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

fn help_text(f: &Finding) -> String {
    let mut lines = Vec::new();
    for d in &f.details {
        lines.push(format!("• {d}"));
    }
    // evidence that cannot be underlined is said in words
    for e in f.evidence.iter().filter(|e| e.span.is_none()) {
        lines.push(format!("evidence: {}: {}", e.document, e.note));
    }
    lines.join("\n")
}

/// The fix, printed as plain text after the diagnostic so that nothing wraps
/// inside a statement or a command: it must paste as it is.
fn fix_text(f: &Finding) -> String {
    let Some(fix) = &f.fix else {
        return String::new();
    };
    let mut out = String::new();
    let whose = fix
        .account
        .as_deref()
        .map(|a| format!("account {a}, "))
        .unwrap_or_default();
    out.push_str(&format!(
        "  fix ({whose}{}): {}\n",
        fix.document, fix.summary
    ));
    if let Some(st) = &fix.statement {
        for l in serde_json::to_string_pretty(st).unwrap_or_default().lines() {
            out.push_str(&format!("    {l}\n"));
        }
    }
    if let Some(cmd) = &fix.command {
        for l in cmd.lines() {
            out.push_str(&format!("    $ {l}\n"));
        }
    }
    out
}

pub fn diagnostics(r: &Report, style: &Style) -> String {
    let handler = if style.color {
        miette::GraphicalReportHandler::new()
    } else {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
    }
    .with_width(style.width as usize)
    .with_context_lines(1);
    let mut out = String::new();
    for f in r
        .checks
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Unknown | Status::Warn))
    {
        let first = f.evidence.iter().find_map(|e| {
            e.span
                .as_ref()
                .map(|(s, sp)| (s.clone(), *sp, e.note.clone()))
        });
        let (first_src, labels) = match first {
            Some((src, span, note)) => {
                let (shown, shown_span) = crate::diag::excerpt(&src, span);
                if Arc::ptr_eq(&shown, &src) {
                    // the whole text is shown: underline every piece of evidence in it
                    let labels = f
                        .evidence
                        .iter()
                        .filter_map(|e| match &e.span {
                            Some((s, sp)) if Arc::ptr_eq(s, &src) => {
                                Some(LabeledSpan::new_with_span(Some(e.note.clone()), *sp))
                            }
                            _ => None,
                        })
                        .collect();
                    (Some(src), labels)
                } else {
                    let label = LabeledSpan::new_with_span(Some(note), shown_span);
                    (Some(shown), vec![label])
                }
            }
            None => (None, Vec::new()),
        };
        let diag = FindingDiag {
            f,
            source: first_src,
            labels,
            help: help_text(f),
        };
        let mut s = String::new();
        if handler.render_report(&mut s, &diag).is_err() {
            s = format!("{diag}\n");
        }
        out.push_str(&s);
        out.push_str(&fix_text(f));
        out.push('\n');
    }
    out
}

pub fn render(r: &Report, style: &Style) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "xacct doctor: {} → {} as {}\n",
        r.copy.source, r.copy.destination, r.copy.principal
    ));
    if let Some(s) = &r.snapshot {
        out.push_str(&format!("snapshot: {s}\n"));
    }
    out.push_str(&table(r, style));
    out.push('\n');
    out.push_str(&verdict_line(r));
    out.push_str("\n\n");
    out.push_str(&diagnostics(r, style));
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}
