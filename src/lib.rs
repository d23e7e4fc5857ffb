//! xacct: will this cross-account copy of SSE-KMS encrypted S3 data work, and if
//! not, which link of the permission chain is missing?
//!
//! `policy` is the engine, `simulate` exposes it, `snapshot` holds what was read
//! from both accounts, `checks` judge it, `report` renders the findings.

pub mod arn;
pub mod checks;
pub mod cli;
pub mod diag;
pub mod exit;
pub mod explain_error;
pub mod gather;
pub mod init;
pub mod json;
pub mod lint;
pub mod live;
pub mod policy;
pub mod report;
pub mod simulate;
pub mod snapshot;
