//! Reports: the findings of a doctor run with its verdict, and the renderers
//! (terminal, JSON, and the CI and diagram formats) over them.

pub mod chain;
pub mod diagram;
pub mod html;
pub mod json;
pub mod junit;
pub mod locate;
pub mod markdown;
pub mod sarif;
pub mod terminal;

mod escape;
mod svg;

use std::sync::Arc;

use serde::Serialize;

use crate::checks::{Finding, Status, Verdict, run_all};
use crate::policy::Source;
use crate::snapshot::model::Snapshot;

pub use chain::Chain;

/// Everything a renderer needs.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub verdict: Verdict,
    pub exit_code: u8,
    pub copy: CopySummary,
    pub summary: Summary,
    pub checks: Vec<Finding>,
    /// Things the user should know that are not findings (ignored fields...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The snapshot file the report was made from, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The snapshot file's text, when the report was made from one: SARIF
    /// regions and the HTML excerpts point into it.
    #[serde(skip)]
    pub snapshot_source: Option<Arc<Source>>,
    /// The real names along the chain (buckets, keys, role...) for the diagrams.
    #[serde(skip)]
    pub chain: Chain,
}

#[derive(Debug, Clone, Serialize)]
pub struct CopySummary {
    pub source: String,
    pub destination: String,
    pub principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_account: Option<String>,
    pub destination_account: String,
    pub method: &'static str,
    /// The KMS keys the source objects use (as sampled, or as declared).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_keys: Vec<String>,
    /// The KMS key objects written into the destination get, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub unknown: usize,
    pub skip: usize,
}

pub const REPORT_FORMAT: &str = "xacct-report/1";

impl Report {
    pub fn new(s: &Snapshot, snapshot_file: Option<String>) -> Report {
        let checks = run_all(s);
        Self::from_findings(s, checks, snapshot_file)
    }

    pub fn from_findings(
        s: &Snapshot,
        checks: Vec<Finding>,
        snapshot_file: Option<String>,
    ) -> Report {
        let plan = crate::checks::Plan::new(s);
        let verdict = Verdict::of(&checks);
        let mut summary = Summary::default();
        for f in &checks {
            match f.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::Warn => summary.warn += 1,
                Status::Unknown => summary.unknown += 1,
                Status::Skip => summary.skip += 1,
            }
        }
        Report {
            format: REPORT_FORMAT,
            verdict,
            exit_code: verdict.exit_code(),
            copy: CopySummary {
                source: s.copy.source.to_string(),
                destination: s.copy.destination.to_string(),
                principal: s.copy.principal.clone(),
                source_account: plan.a.clone(),
                destination_account: plan.b.clone(),
                source_keys: plan.source_keys.clone(),
                destination_key: match &plan.dest_key {
                    crate::checks::plan::DestKey::Key(k) => Some(k.clone()),
                    _ => None,
                },
                caller: s.copy.caller.clone(),
                method: match s.copy.method {
                    crate::snapshot::model::Method::Cli => "cli",
                    crate::snapshot::model::Method::GetPut => "get-put",
                },
            },
            summary,
            checks,
            notes: s.notes.clone(),
            snapshot: snapshot_file,
            snapshot_source: None,
            chain: Chain::new(s, &plan),
        }
    }

    /// Attach the snapshot file's text (what `snapshot` names), so that
    /// renderers can point at lines and columns in it.
    pub fn with_snapshot_text(mut self, text: impl Into<String>) -> Report {
        let name = self.snapshot.clone().unwrap_or_default();
        self.snapshot_source = Some(Source::new(name, text));
        self
    }

    /// The ids of the checks with this status, in catalog order.
    pub fn ids_with(&self, st: Status) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|f| f.status == st)
            .map(|f| f.id)
            .collect()
    }

    /// The exit code, given what should turn it non-zero (`--fail-on`).
    pub fn exit_code_with(&self, fail_on: FailOn) -> u8 {
        let has = |st: Status| self.checks.iter().any(|f| f.status == st);
        match fail_on {
            FailOn::Fail => {
                if has(Status::Fail) {
                    crate::exit::BLOCKED
                } else {
                    crate::exit::READY
                }
            }
            FailOn::Unknown => self.verdict.exit_code(),
            FailOn::Warn => {
                let code = self.verdict.exit_code();
                if code == crate::exit::READY && has(Status::Warn) {
                    crate::exit::BLOCKED
                } else {
                    code
                }
            }
        }
    }
}

/// What turns the exit code non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Only a failing check (unknown is tolerated: exit 0).
    Fail,
    /// A failing (exit 1) or unknown (exit 3) check: the default, as checks.md says.
    #[default]
    Unknown,
    /// A failing, unknown or warning check.
    Warn,
}
