//! Diagrams of the chain (placeholder until the formats issue lands).

use super::Report;

pub fn mermaid(_r: &Report) -> String {
    "xacct: this output format is not available yet\n".into()
}

pub fn dot(_r: &Report) -> String {
    "xacct: this output format is not available yet\n".into()
}
