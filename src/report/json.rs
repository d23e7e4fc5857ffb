//! `--format json`: the report as a stable JSON document (`xacct-report/1`).
//!
//! Schema (documented in the README):
//! `{format, verdict, exit_code, copy{source, destination, principal,
//! source_account, destination_account, method}, summary{pass, fail, warn,
//! unknown, skip}, checks[{id, slug, link, status, message, evidence[{document,
//! account, pointer, statement, note}], fix{summary, account, document,
//! statement, command}, details[]}], notes[], snapshot}`.

use super::Report;

pub fn render(r: &Report) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}
