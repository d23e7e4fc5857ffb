//! The command line: clap definitions and the dispatch to each subcommand.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diag;
use crate::exit;

#[derive(Debug, Parser)]
#[command(
    name = "xacct",
    version,
    about = "Will this cross-account copy of SSE-KMS encrypted S3 data work? If not, which link is missing?",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide one request with the local policy engine (no AWS calls).
    Simulate(SimulateArgs),
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// A case file (JSON, see simulate.md); `-` reads standard input.
    #[arg(required_unless_present = "batch")]
    pub case: Option<PathBuf>,
    /// A file of cases, one JSON object per line; one decision per line out.
    #[arg(long, conflicts_with = "case")]
    pub batch: Option<PathBuf>,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => exit::code(exit::INPUT),
            };
        }
    };
    match cli.command {
        Command::Simulate(a) => simulate(a),
    }
}

fn read_input(path: &Path) -> Result<String, String> {
    let bytes = if path == Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map_err(|e| format!("cannot read standard input: {e}"))?;
        b
    } else {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
    };
    String::from_utf8(bytes).map_err(|e| {
        format!("{}: invalid UTF-8 at byte {}", path.display(), e.utf8_error().valid_up_to())
    })
}

fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

fn simulate(a: SimulateArgs) -> ExitCode {
    if let Some(batch) = a.batch {
        return simulate_batch(&batch);
    }
    let Some(path) = a.case else {
        eprintln!("error: give a case file or --batch FILE");
        return exit::code(exit::INPUT);
    };
    let text = match read_input(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::code(exit::INPUT);
        }
    };
    match crate::simulate::parse_case(&path.display().to_string(), &text) {
        Ok(case) => {
            let d = case.decide();
            let out = serde_json::to_string_pretty(&crate::simulate::output(&d)).unwrap_or_default();
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(p) => {
            eprint!("{}", diag::render(&p, stderr_is_terminal()));
            exit::code(exit::INPUT)
        }
    }
}

fn simulate_batch(path: &Path) -> ExitCode {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return exit::code(exit::INPUT);
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut any_error = false;
    for (i, line) in reader.split(b'\n').enumerate() {
        let name = format!("{}:{}", path.display(), i + 1);
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {name}: {e}");
                any_error = true;
                break;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = match String::from_utf8(line) {
            Err(e) => Err(format!("{name}: invalid UTF-8 at byte {}", e.utf8_error().valid_up_to())),
            Ok(text) => crate::simulate::parse_case(&name, &text).map_err(|p| p.one_line()),
        };
        let json = match result {
            Ok(case) => serde_json::to_string(&crate::simulate::output(&case.decide())).unwrap_or_default(),
            Err(msg) => {
                any_error = true;
                serde_json::json!({ "error": msg }).to_string()
            }
        };
        if writeln!(out, "{json}").is_err() {
            return exit::code(exit::INPUT);
        }
    }
    let _ = out.flush();
    if any_error { exit::code(exit::INPUT) } else { ExitCode::SUCCESS }
}
