//! `--format junit` (placeholder until the formats issue lands).

use super::Report;

pub fn render(_r: &Report) -> String {
    "xacct: this output format is not available yet\n".into()
}
