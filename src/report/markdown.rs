//! `--format markdown`: a pull-request comment. The verdict, the chain as a
//! table (GitHub-flavoured Markdown), and a collapsed section per check that is
//! not `pass`/`skip` with its evidence and the fix (statement and command).

use crate::checks::{Finding, Side, Status, Verdict};

use super::Report;
use super::escape::{md_fence, md_inline, xml_text};
use super::terminal::verdict_line;

pub fn emoji(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Warn => "⚠️",
        Status::Unknown => "❓",
        Status::Skip => "⏭️",
    }
}

fn side(f: &Finding) -> &'static str {
    match f.info().side {
        Side::A => "A",
        Side::B => "B",
        Side::Both => "A+B",
    }
}

fn details(f: &Finding) -> String {
    let mut out = format!(
        "<details>\n<summary>{} <b>{}</b> {}: {}</summary>\n\n{}\n",
        emoji(f.status),
        f.id,
        f.slug,
        xml_text(f.status.as_str()),
        md_inline(&f.message)
    );
    if !f.details.is_empty() {
        out.push('\n');
        for d in &f.details {
            out.push_str(&format!("- {}\n", md_inline(d)));
        }
    }
    if !f.evidence.is_empty() {
        out.push_str("\n**Evidence**\n\n");
        for e in &f.evidence {
            let mut at = md_inline(&e.document);
            if let Some(a) = &e.account {
                at.push_str(&format!(" (account {a})"));
            }
            if let Some(st) = &e.statement {
                at.push_str(&format!(", statement `{}`", md_inline(st)));
            }
            out.push_str(&format!("- {at}: {}\n", md_inline(&e.note)));
        }
    }
    if let Some(fix) = &f.fix {
        let whose = fix
            .account
            .as_deref()
            .map(|a| format!("account {a}, "))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n**Fix** ({}{}): {}\n",
            md_inline(&whose),
            md_inline(&fix.document),
            md_inline(&fix.summary)
        ));
        if let Some(st) = &fix.statement {
            out.push('\n');
            out.push_str(&md_fence(
                "json",
                &serde_json::to_string_pretty(st).unwrap_or_default(),
            ));
        }
        if let Some(cmd) = &fix.command {
            out.push('\n');
            out.push_str(&md_fence("sh", cmd));
        }
    }
    out.push_str("\n</details>\n");
    out
}

pub fn render(r: &Report) -> String {
    let icon = match r.verdict {
        Verdict::Ready => "✅",
        Verdict::Blocked => "❌",
        Verdict::Inconclusive => "❓",
    };
    let mut out = format!(
        "### {icon} xacct doctor: {}\n\n",
        r.verdict.as_str().to_uppercase()
    );
    out.push_str(&format!(
        "`{}` → `{}` as `{}`",
        md_inline(&r.copy.source),
        md_inline(&r.copy.destination),
        md_inline(&r.copy.principal)
    ));
    if let Some(s) = &r.snapshot {
        out.push_str(&format!(" (snapshot `{}`)", md_inline(s)));
    }
    out.push_str("\n\n");
    let line = verdict_line(r);
    match line.split_once(" — ") {
        Some((head, rest)) => out.push_str(&format!("**{head}** — {}\n\n", md_inline(rest))),
        None => out.push_str(&format!("**{}**\n\n", md_inline(&line))),
    }
    out.push_str("| ID | Link | Account | Status | Message |\n|---|---|---|---|---|\n");
    for f in &r.checks {
        out.push_str(&format!(
            "| {} | {} | {} | {} {} | {} |\n",
            f.id,
            md_inline(f.link),
            side(f),
            emoji(f.status),
            f.status.as_str(),
            md_inline(&f.message)
        ));
    }
    let open: Vec<&Finding> = r
        .checks
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Unknown | Status::Warn))
        .collect();
    for f in open {
        out.push('\n');
        out.push_str(&details(f));
    }
    for n in &r.notes {
        out.push_str(&format!("\n> note: {}\n", md_inline(n)));
    }
    out
}
