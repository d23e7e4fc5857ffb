//! xacct: will this cross-account copy of SSE-KMS encrypted S3 data work, and if
//! not, which link of the permission chain is missing?
//!
//! `policy` is the engine, `simulate` exposes it, `snapshot` holds what was read
//! from both accounts, `checks` judge it, `report` renders the findings.

pub mod cli;
pub mod diag;
pub mod exit;
pub mod json;
pub mod policy;
pub mod simulate;
pub mod checks;
pub mod snapshot;
