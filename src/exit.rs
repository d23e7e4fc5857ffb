//! Exit codes (checks.md): they mean the same in every subcommand.

use std::process::ExitCode;

pub const READY: u8 = 0;
pub const BLOCKED: u8 = 1;
pub const INPUT: u8 = 2;
pub const INCONCLUSIVE: u8 = 3;
pub const AWS: u8 = 4;

pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}
