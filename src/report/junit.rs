//! `--format junit`: JUnit XML, one test suite "xacct doctor" with one test
//! case per check in catalog order. `fail` and `unknown` are failures (the
//! failure's type says which), `skip` is skipped, `pass` and `warn` pass (a
//! warning's message goes to system-out).

use crate::checks::{Finding, Status};

use super::Report;
use super::escape::{xml_attr, xml_text};

fn body(f: &Finding) -> String {
    let mut lines = vec![f.message.clone()];
    for d in &f.details {
        lines.push(format!("- {d}"));
    }
    for e in &f.evidence {
        let mut at = e.document.clone();
        if let Some(a) = &e.account {
            at.push_str(&format!(" (account {a})"));
        }
        if let Some(st) = &e.statement {
            at.push_str(&format!(" {st}"));
        }
        lines.push(format!("evidence: {at}: {}", e.note));
    }
    if let Some(fix) = &f.fix {
        let whose = fix
            .account
            .as_deref()
            .map(|a| format!("account {a}, "))
            .unwrap_or_default();
        lines.push(format!("fix ({whose}{}): {}", fix.document, fix.summary));
        if let Some(st) = &fix.statement {
            lines.push(serde_json::to_string_pretty(st).unwrap_or_default());
        }
        if let Some(cmd) = &fix.command {
            lines.push(format!("$ {cmd}"));
        }
    }
    lines.join("\n")
}

pub fn render(r: &Report) -> String {
    let s = &r.summary;
    let failures = s.fail + s.unknown;
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{}\" time=\"0\"",
        r.checks.len(),
        s.skip
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<testsuites name=\"xacct\" {counts}>\n"));
    let file_attr = r
        .snapshot
        .as_deref()
        .map(|f| format!(" file=\"{}\"", xml_attr(f)))
        .unwrap_or_default();
    out.push_str(&format!(
        "  <testsuite name=\"xacct doctor\" {counts}{file_attr}>\n"
    ));
    out.push_str("    <properties>\n");
    let mut props = vec![
        ("verdict", r.verdict.as_str().to_string()),
        ("source", r.copy.source.clone()),
        ("destination", r.copy.destination.clone()),
        ("principal", r.copy.principal.clone()),
    ];
    if let Some(f) = &r.snapshot {
        props.push(("snapshot", f.clone()));
    }
    for (k, v) in props {
        out.push_str(&format!(
            "      <property name=\"{k}\" value=\"{}\"/>\n",
            xml_attr(&v)
        ));
    }
    out.push_str("    </properties>\n");
    for f in &r.checks {
        let open = format!(
            "    <testcase name=\"{} {}\" classname=\"xacct.doctor\" time=\"0\"{file_attr}",
            f.id, f.slug
        );
        match f.status {
            Status::Pass => out.push_str(&format!("{open}/>\n")),
            Status::Warn => out.push_str(&format!(
                "{open}>\n      <system-out>warn: {}</system-out>\n    </testcase>\n",
                xml_text(&body(f))
            )),
            Status::Skip => out.push_str(&format!(
                "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                xml_attr(&f.message)
            )),
            Status::Fail | Status::Unknown => out.push_str(&format!(
                "{open}>\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                f.status.as_str(),
                xml_attr(&f.message),
                xml_text(&body(f))
            )),
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
