//! `--html FILE`: one self-contained page to attach to a ticket — the
//! verdict, the chain as an inline SVG (drawn by [`super::svg`]), the table,
//! and each check that is not `pass`/`skip` with its message, the evidence
//! (the policy statement cut out of the policy text, the offending spans
//! marked) and the fix. No scripts, no external assets; the page's content
//! security policy forbids both. Everything from the snapshot is escaped.

use std::fmt::Write;

use crate::checks::{Finding, Side, Status};

use super::Report;
use super::escape::{xml_attr, xml_text};
use super::locate::{Excerpt, excerpts};
use super::terminal::verdict_line;

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Verdana, system-ui, Helvetica, Arial, sans-serif; color: #1f2328;
  margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 0 0 .4rem; }
h4 { font-size: .95rem; margin: .9rem 0 .3rem; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem .8rem;
  overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.copy { color: #57606a; margin-top: 0; }
.verdict { border: 2px solid; border-radius: 8px; padding: .7rem 1rem; font-size: 1.1rem; margin: 1rem 0; }
.verdict.ready { border-color: #1a7f37; background: #dafbe1; }
.verdict.blocked { border-color: #cf222e; background: #ffebe9; }
.verdict.inconclusive { border-color: #bc4c00; background: #fff1e5; }
.counts span { margin-right: 1rem; }
figure.chain { margin: 1rem 0; border: 1px solid #d0d7de; border-radius: 8px; padding: .5rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.id { white-space: nowrap; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.status { font-weight: bold; white-space: nowrap; }
.status.pass { color: #1a7f37; } .status.fail { color: #cf222e; } .status.unknown { color: #bc4c00; }
.status.warn { color: #9a6700; } .status.skip { color: #6e7781; }
section.finding { border: 1px solid #d0d7de; border-left: 6px solid #6e7781; border-radius: 6px;
  padding: .8rem 1rem; margin: 1rem 0; }
section.finding.fail { border-left-color: #cf222e; } section.finding.unknown { border-left-color: #bc4c00; }
section.finding.warn { border-left-color: #9a6700; }
.slug { color: #57606a; font-weight: normal; }
figure.excerpt { margin: .4rem 0 .8rem; }
figure.excerpt figcaption { color: #57606a; font-size: .85rem; }
mark { background: #fff8c5; outline: 1px solid #d4a72c; }
.notes li, .evidence li { margin: .2rem 0; }
footer { color: #57606a; font-size: .8rem; margin: 2rem 0 1rem; }
@media print { pre { white-space: pre-wrap; } section.finding { break-inside: avoid; } }
"#;

/// Escaped text whose `code spans` become `<code>` (the messages use them).
fn prose(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // an unpaired backtick: no code spans
        return xml_text(s);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", xml_text(p))
            } else {
                xml_text(p)
            }
        })
        .collect()
}

fn side(f: &Finding) -> &'static str {
    match f.info().side {
        Side::A => "A",
        Side::B => "B",
        Side::Both => "A+B",
    }
}

fn status_span(s: Status) -> String {
    format!(
        "<span class=\"status {0}\">{1}</span>",
        s.as_str(),
        s.as_str().to_uppercase()
    )
}

/// The excerpt's text with its marks: overlapping marks merge.
fn marked(x: &Excerpt) -> String {
    let mut merged: Vec<(std::ops::Range<usize>, Vec<&str>)> = Vec::new();
    for (r, note) in &x.marks {
        match merged.last_mut() {
            Some((last, notes)) if r.start < last.end => {
                last.end = last.end.max(r.end);
                notes.push(note);
            }
            _ => merged.push((r.clone(), vec![note])),
        }
    }
    let mut out = String::new();
    let mut at = 0;
    for (r, notes) in merged {
        let (Some(before), Some(inside)) = (x.text.get(at..r.start), x.text.get(r.clone())) else {
            continue;
        };
        out.push_str(&xml_text(before));
        let _ = write!(
            out,
            "<mark title=\"{}\">{}</mark>",
            xml_attr(&notes.join("\n")),
            xml_text(inside)
        );
        at = r.end;
    }
    out.push_str(&xml_text(x.text.get(at..).unwrap_or("")));
    out
}

fn finding(out: &mut String, f: &Finding, parsed: &mut super::locate::Parsed) {
    let _ = writeln!(
        out,
        "<section class=\"finding {}\" id=\"{}\">\n<h3>{} {} <span class=\"slug\">{} — {}</span></h3>",
        f.status.as_str(),
        f.id,
        status_span(f.status),
        f.id,
        xml_text(f.slug),
        xml_text(f.link)
    );
    let _ = writeln!(out, "<p class=\"message\">{}</p>", prose(&f.message));
    if !f.details.is_empty() {
        out.push_str("<ul class=\"details\">\n");
        for d in &f.details {
            let _ = writeln!(out, "<li>{}</li>", prose(d));
        }
        out.push_str("</ul>\n");
    }
    let (cuts, bare) = excerpts(f, parsed);
    if !cuts.is_empty() || !bare.is_empty() {
        out.push_str("<h4>Evidence</h4>\n");
    }
    for x in &cuts {
        let lines = if x.first_line == x.last_line {
            format!("line {}", x.first_line)
        } else {
            format!("lines {}–{}", x.first_line, x.last_line)
        };
        let _ = writeln!(
            out,
            "<figure class=\"excerpt\"><figcaption>{}, {lines}</figcaption>\n<pre>{}</pre>",
            xml_text(&x.source),
            marked(x)
        );
        let notes: Vec<&str> = {
            let mut n: Vec<&str> = x.marks.iter().map(|(_, n)| n.as_str()).collect();
            n.dedup();
            n
        };
        // evidence whose span is the whole statement has no mark: say its note
        let whole: Vec<&str> = f
            .evidence
            .iter()
            .filter(|e| {
                e.span.as_ref().is_some_and(|(s, _)| s.name == x.source)
                    && !notes.contains(&e.note.as_str())
            })
            .map(|e| e.note.as_str())
            .collect();
        let mut all = notes.clone();
        for w in whole {
            if !all.contains(&w) {
                all.push(w);
            }
        }
        if !all.is_empty() {
            out.push_str("<ul class=\"notes\">\n");
            for n in all {
                let _ = writeln!(out, "<li>{}</li>", prose(n));
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</figure>\n");
    }
    if !bare.is_empty() {
        out.push_str("<ul class=\"evidence\">\n");
        for e in bare {
            let mut at = xml_text(&e.document);
            if let Some(a) = &e.account {
                let _ = write!(at, " (account {})", xml_text(a));
            }
            if let Some(p) = &e.pointer {
                let _ = write!(at, " <code>{}</code>", xml_text(p));
            }
            if let Some(st) = &e.statement {
                let _ = write!(at, " <code>{}</code>", xml_text(st));
            }
            let _ = writeln!(out, "<li>{at}: {}</li>", prose(&e.note));
        }
        out.push_str("</ul>\n");
    }
    if let Some(fix) = &f.fix {
        out.push_str("<h4>Fix</h4>\n");
        let whose = fix
            .account
            .as_deref()
            .map(|a| format!("account {a}, "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<p class=\"fix\">In {}{}: {}</p>",
            xml_text(&whose),
            xml_text(&fix.document),
            prose(&fix.summary)
        );
        if let Some(st) = &fix.statement {
            let _ = writeln!(
                out,
                "<pre class=\"fix-statement\">{}</pre>",
                xml_text(&serde_json::to_string_pretty(st).unwrap_or_default())
            );
        }
        if let Some(cmd) = &fix.command {
            let _ = writeln!(out, "<pre class=\"command\">$ {}</pre>", xml_text(cmd));
        }
    }
    out.push_str("</section>\n");
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let verdict = r.verdict.as_str();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>xacct doctor: {} — {} → {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        verdict.to_uppercase(),
        xml_text(&r.copy.source),
        xml_text(&r.copy.destination)
    );
    out.push_str("<header>\n<h1>xacct doctor</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"copy\"><code>{}</code> → <code>{}</code> as <code>{}</code>{}</p>",
        xml_text(&r.copy.source),
        xml_text(&r.copy.destination),
        xml_text(&r.copy.principal),
        r.snapshot
            .as_deref()
            .map(|s| format!(" · snapshot <code>{}</code>", xml_text(s)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "<p class=\"verdict {verdict}\" id=\"verdict\"><strong>{}</strong></p>",
        xml_text(&verdict_line(r))
    );
    let s = &r.summary;
    let _ = writeln!(
        out,
        "<p class=\"counts\"><span class=\"status pass\">{} pass</span><span class=\"status fail\">{} fail</span><span class=\"status unknown\">{} unknown</span><span class=\"status warn\">{} warn</span><span class=\"status skip\">{} skip</span></p>\n</header>",
        s.pass, s.fail, s.unknown, s.warn, s.skip
    );
    out.push_str("<main>\n<h2>The chain</h2>\n<figure class=\"chain\">\n");
    out.push_str(&super::svg::render(r));
    out.push_str("</figure>\n");
    out.push_str("<h2>Checks</h2>\n<table>\n<thead><tr><th>ID</th><th>Link</th><th>Account</th><th>Status</th><th>Why</th></tr></thead>\n<tbody>\n");
    for f in &r.checks {
        let open = matches!(f.status, Status::Fail | Status::Unknown | Status::Warn);
        let id = if open {
            format!("<a href=\"#{0}\">{0}</a>", f.id)
        } else {
            f.id.to_string()
        };
        let _ = writeln!(
            out,
            "<tr id=\"row-{}\"><td class=\"id\">{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.id,
            xml_text(f.link),
            side(f),
            status_span(f.status),
            prose(&f.message)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    let open: Vec<&Finding> = r
        .checks
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Unknown | Status::Warn))
        .collect();
    if !open.is_empty() {
        out.push_str("<h2>Findings and fixes</h2>\n");
        let mut parsed = super::locate::Parsed::default();
        for f in open {
            finding(&mut out, f, &mut parsed);
        }
    }
    if !r.notes.is_empty() {
        out.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in &r.notes {
            let _ = writeln!(out, "<li>{}</li>", xml_text(n));
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(
        out,
        "</main>\n<footer>Made by xacct {} (<code>xacct doctor --html</code>); the checks are described by <code>xacct explain XA0NN</code>.</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::json::Span;
    use crate::policy::Source;
    use crate::report::chain::tests::walkthrough;
    use crate::report::{diagram, junit, markdown, sarif};

    const EVIL: &str = "</pre></code><script>alert(1)</script><img src=x onerror=alert(2)>\"'&`|";

    /// A report whose every user-controlled string is hostile markup.
    fn hostile() -> Report {
        let mut r = walkthrough("as-published");
        r.chain.caller = Some(EVIL.into());
        r.chain.objects = EVIL.into();
        r.notes.push(EVIL.into());
        let policy = format!("{{\"Statement\": [{{\"Sid\": \"{EVIL}\"}}]}}");
        let text: Arc<Source> = Source::new(EVIL, policy.clone());
        let at = policy.find("</pre>").unwrap_or(0);
        let f = &mut r.checks[1];
        f.message = EVIL.into();
        f.details.push(EVIL.into());
        for e in &mut f.evidence {
            e.note = EVIL.into();
            e.document = EVIL.into();
            e.statement = Some("/Statement/0".into());
            e.span = Some((text.clone(), Span::new(at, at + 12)));
        }
        if let Some(fix) = &mut f.fix {
            fix.summary = EVIL.into();
            fix.document = EVIL.into();
            fix.command = Some(EVIL.into());
            fix.statement = Some(serde_json::json!({ "Sid": EVIL }));
        }
        r
    }

    #[test]
    fn user_data_cannot_inject_markup_into_any_format() {
        let r = hostile();
        let html = render(&r);
        assert!(!html.contains("<script"), "html");
        assert!(!html.contains("<img"), "html");
        assert!(
            html.contains("&lt;script&gt;"),
            "the text is still shown, escaped"
        );
        assert!(
            html.contains("<mark title="),
            "the evidence span is still marked"
        );
        let md = markdown::render(&r);
        let outside_fences: String = md.split("```").step_by(2).collect::<Vec<_>>().join("");
        assert!(!outside_fences.contains("<script"), "markdown");
        assert!(!diagram::mermaid(&r).contains("<script"), "mermaid");
        assert!(!diagram::dot(&r).contains("\"<script"), "dot");
        assert!(!junit::render(&r).contains("<script"), "junit");
        assert!(
            serde_json::from_str::<serde_json::Value>(&sarif::render(&r)).is_ok(),
            "sarif stays JSON"
        );
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = render(&walkthrough("as-published"));
        assert!(html.contains("Content-Security-Policy"));
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
        assert_eq!(html.matches("<svg").count(), 1);
        for c in crate::checks::CATALOG {
            assert!(html.contains(&format!("id=\"row-{}\"", c.id)));
        }
    }
}
