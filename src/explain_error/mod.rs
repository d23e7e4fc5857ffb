//! `xacct explain "<error text>"`: read an AccessDenied (or a KMS, S3 or STS
//! error) someone pasted, and say which links of the chain it points to, which
//! account, what the text cannot tell apart, and which `xacct doctor` run
//! settles it. `parse` reads the text, `diagnose` maps it onto the links.
//!
//! Exit: 0 recognised, 2 nothing in the text was recognised.

pub mod diagnose;
pub mod parse;

use std::io::{Read, Write};

pub use diagnose::{Explanation, LinkRef};
pub use parse::{Facts, facts};

use crate::exit;

/// Explain error text; `None` when nothing in it is recognised.
pub fn explain(text: &str) -> Option<Explanation> {
    diagnose::explain(parse::facts(text))
}

/// The CLI entry: text output.
pub fn run(text: &str) -> u8 {
    run_with(text, false)
}

/// The CLI entry; `json` selects the JSON output. `-` reads standard input.
pub fn run_with(text: &str, json: bool) -> u8 {
    let mut owned = String::new();
    let text = if text == "-" {
        if std::io::stdin().read_to_string(&mut owned).is_err() {
            eprintln!("error: cannot read standard input as text");
            return exit::INPUT;
        }
        owned.as_str()
    } else {
        text
    };
    let result = explain(text);
    let mut stdout = std::io::stdout().lock();
    let code = match (&result, json) {
        (Some(e), false) => {
            let _ = stdout.write_all(render_text(e).as_bytes());
            exit::READY
        }
        (Some(e), true) => {
            let v = serde_json::json!({ "recognised": true, "explanation": e });
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
            exit::READY
        }
        (None, false) => {
            eprint!("{}", render_unrecognised());
            exit::INPUT
        }
        (None, true) => {
            let v = serde_json::json!({
                "recognised": false,
                "message": UNRECOGNISED,
                "doctor": DOCTOR_ALL,
            });
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
            exit::INPUT
        }
    };
    let _ = stdout.flush();
    code
}

const UNRECOGNISED: &str = "xacct found nothing it knows in this text: no AccessDenied (old or new form), no KMS, S3 or STS error code, no `when calling the ... operation`.";
const DOCTOR_ALL: &str = "xacct doctor --source s3://SOURCE_BUCKET --destination s3://DESTINATION_BUCKET --role-arn ROLE_ARN --source-profile A";

fn render_unrecognised() -> String {
    format!(
        "{UNRECOGNISED}\n\
         Paste the whole error line (for example `An error occurred (AccessDenied) when calling the CopyObject operation: ...`),\n\
         or check every link of the chain at once:\n\n  {DOCTOR_ALL}\n"
    )
}

fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// The explanation as text for a terminal (or a ticket).
pub fn render_text(e: &Explanation) -> String {
    const W: usize = 100;
    let f = &e.facts;
    let mut out = format!("{}\n\n", wrap(&e.recognised, 0, W));
    let mut fact = |label: &str, value: String| {
        out.push_str(&format!("  {label:<10} {}\n", wrap(&value, 13, W)));
    };
    if let Some(op) = &f.operation {
        fact("operation", op.clone());
    }
    if let Some(p) = &f.principal {
        let acct = f
            .principal_account()
            .map(|a| format!(" (account {a})"))
            .unwrap_or_default();
        fact("principal", format!("{p}{acct}"));
    }
    if let Some(a) = &f.action {
        fact("action", a.clone());
    }
    if let Some(r) = &f.resource {
        fact("resource", r.clone());
    } else if f.resource_unnamed {
        fact(
            "resource",
            "not named (\"this resource\": KMS called by S3)".into(),
        );
    }
    if let Some(k) = &f.key_arn
        && f.resource.as_deref() != Some(k.as_str())
    {
        fact("key", k.clone());
    }
    if let Some(p) = &e.policy {
        fact("policy", p.clone());
    }
    if !e.permission_problem {
        fact("kind", "not a permission problem".into());
    }
    let primary: Vec<&LinkRef> = e.links.iter().filter(|l| l.primary).collect();
    let also: Vec<&LinkRef> = e.links.iter().filter(|l| !l.primary).collect();
    let mut section = |title: &str, links: &[&LinkRef]| {
        if links.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}\n"));
        for l in links {
            out.push_str(&format!("  {}  {}\n", l.id, l.link));
            out.push_str(&format!("         {}\n", wrap(&l.why, 9, W)));
        }
    };
    section("Points to", &primary);
    section("Could also be", &also);
    if e.links.is_empty() {
        out.push_str("\nNo link of the chain: none of xacct's checks covers this.\n");
    }
    let acct = match &e.account.id {
        Some(id) => format!("{} ({id})", e.account.side),
        None => e.account.side.to_string(),
    };
    out.push_str(&format!(
        "\nLikely account: {}\n",
        wrap(&format!("{acct}: {}", e.account.why), 16, W)
    ));
    if !e.ambiguous.is_empty() {
        out.push_str("\nCannot tell apart\n");
        for a in &e.ambiguous {
            out.push_str(&format!("  - {}\n", wrap(a, 4, W)));
        }
    }
    if !e.hints.is_empty() {
        out.push_str("\nWhat to do\n");
        for h in &e.hints {
            out.push_str(&format!("  - {}\n", wrap(h, 4, W)));
        }
    }
    out.push_str("\nSettle it with\n");
    out.push_str(&format!("  {}\n", e.doctor.command));
    if !e.doctor.why.is_empty() {
        out.push_str(&format!("  {}\n", wrap(&e.doctor.why, 2, W)));
    }
    if !e.doctor.placeholders.is_empty() {
        out.push_str("  Replace:\n");
        for p in &e.doctor.placeholders {
            out.push_str(&format!("    {}\n", wrap(p, 6, W)));
        }
    }
    out
}
