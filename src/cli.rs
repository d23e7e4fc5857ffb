//! The command line: clap definitions and the dispatch to each subcommand.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diag;
use crate::exit;
use crate::report::{FailOn, Report};

#[derive(Debug, Parser)]
#[command(
    name = "xacct",
    version,
    about = "Will this cross-account copy of SSE-KMS encrypted S3 data work? If not, which link is missing, and how to fix it.",
    long_about = None,
    after_help = "Exit codes: 0 ready, 1 blocked, 3 inconclusive, 2 usage or input error, 4 AWS unreachable or credentials unusable."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every link of the copy's permission chain (from a snapshot, or live).
    Doctor(DoctorArgs),
    /// Read both accounts and write what was read as a snapshot file.
    Snapshot(SnapshotArgs),
    /// Decide one request with the local policy engine (no AWS calls).
    Simulate(SimulateArgs),
    /// Explain a check (XA003 or its slug), or an AccessDenied message you pasted.
    Explain(ExplainArgs),
    /// List the checks.
    Checks,
    /// Check policy files for grammar errors and the known traps.
    Lint(LintArgs),
    /// Write the seven documents of a correct setup, with the commands that apply them.
    Init(InitArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Policy files (JSON).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// What kind of policy the files are (guessed from the content when absent).
    #[arg(long, value_enum)]
    pub kind: Option<LintKind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintKind {
    Identity,
    Bucket,
    Key,
    Trust,
    Scp,
    Rcp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LintFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The source: s3://bucket[/prefix] (account A).
    #[arg(long)]
    pub source: String,
    /// The destination: s3://bucket[/prefix] (account B).
    #[arg(long)]
    pub destination: String,
    /// The copying role's ARN (in B).
    #[arg(long = "role", value_name = "ARN")]
    pub role: String,
    /// The source key ARN (A's key).
    #[arg(long, value_name = "ARN")]
    pub source_key: Option<String>,
    /// The destination key ARN (B's key).
    #[arg(long, value_name = "ARN")]
    pub destination_key: Option<String>,
    /// The identity that will assume the role (default: any principal of B that IAM allows).
    #[arg(long, value_name = "ARN")]
    pub caller: Option<String>,
    /// Write the documents into this directory (default: print them).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The planned copy, as flags mirroring the snapshot's `copy` block.
#[derive(Debug, Clone, Args, Default)]
pub struct CopyArgs {
    /// The bucket that is read (account A): s3://bucket[/prefix].
    #[arg(long, value_name = "S3URL")]
    pub source: Option<String>,
    /// The bucket that is written (account B): s3://bucket[/prefix].
    #[arg(long, value_name = "S3URL")]
    pub destination: Option<String>,
    /// The IAM role in B that performs the copy.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The identity that will assume the role (its trust policy is checked).
    #[arg(long, value_name = "ARN")]
    pub caller: Option<String>,
    /// The KMS key ARN the source objects are expected to use.
    #[arg(long, value_name = "ARN")]
    pub source_key: Option<String>,
    /// The KMS key ARN the destination should be encrypted with.
    #[arg(long, value_name = "ARN")]
    pub destination_key: Option<String>,
    /// How the copy runs: `aws s3 cp` between buckets, or download then upload.
    #[arg(long, value_enum, default_value_t = MethodArg::Cli)]
    pub method: MethodArg,
    /// A request header the copy sends (repeatable), e.g. x-amz-request-payer=requester.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// A condition key known for the requests (repeatable), e.g. aws:SourceVpce=vpce-1a2b3c4d.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// A session policy passed when the role is assumed (JSON file).
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum MethodArg {
    #[default]
    Cli,
    GetPut,
}

/// How to reach AWS.
#[derive(Debug, Clone, Args, Default)]
pub struct AwsArgs {
    /// The region of the requests (default: the profile's, or the environment's).
    #[arg(long)]
    pub region: Option<String>,
    /// Profile for account B (the destination and the role).
    #[arg(long)]
    pub profile: Option<String>,
    /// Profile for account A (the source); without it A's documents are not read.
    #[arg(long)]
    pub source_profile: Option<String>,
    /// How many source objects to HeadObject.
    #[arg(long, default_value_t = 5)]
    pub sample: usize,
    /// Also test writes: CreateMultipartUpload + AbortMultipartUpload on the destination.
    #[arg(long, conflicts_with = "no_probes")]
    pub probe_writes: bool,
    /// Read the documents only: do not act as the role (no AssumeRole, no probes).
    #[arg(long)]
    pub no_probes: bool,
    /// List and HeadObject every source object (aggregated into `census`).
    #[arg(long)]
    pub census: bool,
    /// HeadObject calls in flight at once, for the sample and the census.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Give up after this many seconds [default: 60; with --census: no limit].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

impl AwsArgs {
    /// The time limit of a live run: `--timeout`, else 60 s, except that a
    /// census runs as long as the bucket needs.
    pub fn time_limit(&self) -> Option<u64> {
        self.timeout
            .or((!self.census).then_some(60))
            .map(|s| s.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A table of the chain, the verdict, and a diagnostic per broken link.
    #[default]
    Table,
    /// The report as JSON (xacct-report/1).
    Json,
    /// SARIF 2.1.0, for code-scanning in CI.
    Sarif,
    /// JUnit XML: one test case per check.
    Junit,
    /// A Markdown table for a pull-request comment.
    Markdown,
    /// The chain as a Mermaid flowchart.
    Mermaid,
    /// The chain as a Graphviz dot graph.
    Dot,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Evaluate this snapshot file instead of reading AWS (no network at all).
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub copy: CopyArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// What turns the exit code non-zero.
    #[arg(long, value_enum, default_value_t = FailOn::Unknown)]
    pub fail_on: FailOn,
    /// Never colour the output (also: NO_COLOR).
    #[arg(long)]
    pub no_color: bool,
    /// Also write a self-contained HTML report to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Where to write the snapshot.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Replace account ids, bucket, object, role, key and other names with
    /// stable placeholders, so the snapshot can be shared; the verdict stays
    /// the same.
    #[arg(long)]
    pub redact: bool,
    /// Redact this existing snapshot file instead of reading AWS (no network).
    #[arg(
        long,
        value_name = "FILE",
        requires = "redact",
        conflicts_with_all = ["source", "destination", "role_arn", "profile", "source_profile"]
    )]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub copy: CopyArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A case file (JSON, see simulate.md); `-` reads standard input.
    #[arg(required_unless_present = "batch")]
    pub case: Option<PathBuf>,
    /// A file of cases, one JSON object per line; one decision per line out.
    #[arg(long, conflicts_with = "case")]
    pub batch: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A check id (XA003) or slug, or the text of an AccessDenied error (`-`: read it from standard input).
    pub what: String,
    /// Output format (for error text).
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    ExitCode::SUCCESS
                }
                _ => exit::code(exit::INPUT),
            };
        }
    };
    match cli.command {
        Command::Doctor(a) => doctor(a),
        Command::Snapshot(a) => snapshot(a),
        Command::Simulate(a) => simulate(a),
        Command::Explain(a) => explain(&a.what, a.format == LintFormat::Json),
        Command::Checks => checks(),
        Command::Lint(a) => exit::code(crate::lint::run(&a)),
        Command::Init(a) => exit::code(crate::init::run(&a)),
        Command::Completions(a) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            // into memory first: clap_complete panics on a write error (a closed pipe)
            let mut out = Vec::new();
            clap_complete::generate(a.shell, &mut cmd, "xacct", &mut out);
            let _ = std::io::stdout().write_all(&out);
            ExitCode::SUCCESS
        }
        Command::Man => {
            use clap::CommandFactory;
            let man = clap_mangen::Man::new(Cli::command());
            let mut out = Vec::new();
            if let Err(e) = man.render(&mut out) {
                return input_error(format!("cannot render the man page: {e}"));
            }
            let _ = std::io::stdout().write_all(&out);
            ExitCode::SUCCESS
        }
    }
}

fn color_for(stream_is_tty: bool, no_color: bool) -> bool {
    stream_is_tty && !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|w| *w >= 60)
        .unwrap_or(120)
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    if path == Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(b);
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn input_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    exit::code(exit::INPUT)
}

fn doctor(a: DoctorArgs) -> ExitCode {
    let (snap, file, text) = match &a.snapshot {
        Some(path) => {
            let bytes = match read_file(path) {
                Ok(b) => b,
                Err(e) => return input_error(e),
            };
            let name = path.display().to_string();
            match crate::snapshot::load_bytes(&name, &bytes) {
                Ok(s) => (s, Some(name), String::from_utf8(bytes).ok()),
                Err(p) => {
                    eprint!(
                        "{}",
                        diag::render(&p, color_for(std::io::stderr().is_terminal(), a.no_color))
                    );
                    return exit::code(exit::INPUT);
                }
            }
        }
        None => match live_snapshot(&a.copy, &a.aws) {
            Ok(s) => (s, None, None),
            Err(code) => return code,
        },
    };
    let mut report = Report::new(&snap, file);
    if let Some(text) = text {
        report = report.with_snapshot_text(text);
    }
    if let Some(path) = &a.html
        && let Err(e) = std::fs::write(path, crate::report::html::render(&report))
    {
        return input_error(format!("cannot write {}: {e}", path.display()));
    }
    let out = match a.format {
        Format::Json => crate::report::json::render(&report),
        Format::Sarif => crate::report::sarif::render(&report),
        Format::Junit => crate::report::junit::render(&report),
        Format::Markdown => crate::report::markdown::render(&report),
        Format::Mermaid => crate::report::diagram::mermaid(&report),
        Format::Dot => crate::report::diagram::dot(&report),
        Format::Table => {
            let style = crate::report::terminal::Style {
                color: color_for(std::io::stdout().is_terminal(), a.no_color),
                width: terminal_width(),
            };
            crate::report::terminal::render(&report, &style)
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    let code = exit::code(report.exit_code_with(a.fail_on));
    // the process ends here: freeing a big snapshot node by node would only
    // cost time (a tenth of a 10 MiB run)
    std::mem::forget(report);
    std::mem::forget(snap);
    code
}

/// Read AWS into a snapshot (the live doctor and `xacct snapshot`).
fn live_snapshot(copy: &CopyArgs, aws: &AwsArgs) -> Result<crate::snapshot::Snapshot, ExitCode> {
    let spec = match crate::live::copy_spec(copy) {
        Ok(s) => s,
        Err(p) => {
            eprint!(
                "{}",
                diag::render(&p, color_for(std::io::stderr().is_terminal(), false))
            );
            return Err(exit::code(exit::INPUT));
        }
    };
    match crate::live::gather(spec, aws) {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
            Err(exit::code(e.exit_code()))
        }
    }
}

fn snapshot(a: SnapshotArgs) -> ExitCode {
    let snap = match &a.from {
        // redact a snapshot someone already has: no AWS at all
        Some(path) => {
            let bytes = match read_file(path) {
                Ok(b) => b,
                Err(e) => return input_error(e),
            };
            match crate::snapshot::load_bytes(&path.display().to_string(), &bytes) {
                Ok(s) => s,
                Err(p) => {
                    eprint!(
                        "{}",
                        diag::render(&p, color_for(std::io::stderr().is_terminal(), false))
                    );
                    return exit::code(exit::INPUT);
                }
            }
        }
        None => match live_snapshot(&a.copy, &a.aws) {
            Ok(s) => s,
            Err(code) => return code,
        },
    };
    let snap = if a.redact {
        match crate::snapshot::redact::redact(&snap) {
            Ok(r) => r,
            Err(e) => return input_error(format!("cannot redact the snapshot: {e}")),
        }
    } else {
        snap
    };
    let text = match serde_json::to_string_pretty(&snap) {
        Ok(t) => t + "\n",
        Err(e) => return input_error(format!("cannot serialize the snapshot: {e}")),
    };
    if let Err(e) = std::fs::write(&a.output, text) {
        return input_error(format!("cannot write {}: {e}", a.output.display()));
    }
    for n in &snap.notes {
        eprintln!("note: {n}");
    }
    eprintln!("wrote {}", a.output.display());
    ExitCode::SUCCESS
}

fn explain(what: &str, json: bool) -> ExitCode {
    if let Some(c) = crate::checks::lookup(what) {
        print!("{}", c.doc);
        return ExitCode::SUCCESS;
    }
    exit::code(crate::explain_error::run_with(what, json))
}

fn checks() -> ExitCode {
    let mut out = String::new();
    for c in crate::checks::CATALOG {
        let step = c.seed_step.map(|s| format!("step {s}")).unwrap_or_default();
        out.push_str(&format!(
            "{}  {:<34} {:<7} {:<16} {}\n",
            c.id,
            c.slug,
            step,
            c.side.label(),
            c.link
        ));
    }
    print!("{out}");
    ExitCode::SUCCESS
}

fn simulate(a: SimulateArgs) -> ExitCode {
    if let Some(batch) = a.batch {
        return simulate_batch(&batch);
    }
    let Some(path) = a.case else {
        return input_error("give a case file or --batch FILE");
    };
    let bytes = match read_file(&path) {
        Ok(b) => b,
        Err(e) => return input_error(e),
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let p = diag::not_utf8(
                &path.display().to_string(),
                e.as_bytes(),
                e.utf8_error().valid_up_to(),
            );
            eprint!("{}", diag::render(&p, std::io::stderr().is_terminal()));
            return exit::code(exit::INPUT);
        }
    };
    match crate::simulate::parse_case(&path.display().to_string(), &text) {
        Ok(case) => {
            let d = case.decide();
            let out =
                serde_json::to_string_pretty(&crate::simulate::output(&d)).unwrap_or_default();
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(p) => {
            eprint!("{}", diag::render(&p, std::io::stderr().is_terminal()));
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
            Err(e) => return input_error(format!("cannot read {}: {e}", path.display())),
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
            Err(e) => Err(format!(
                "{name}: invalid UTF-8 at byte {}",
                e.utf8_error().valid_up_to()
            )),
            Ok(text) => crate::simulate::parse_case(&name, &text).map_err(|p| p.one_line()),
        };
        let json = match result {
            Ok(case) => {
                serde_json::to_string(&crate::simulate::output(&case.decide())).unwrap_or_default()
            }
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
    if any_error {
        exit::code(exit::INPUT)
    } else {
        ExitCode::SUCCESS
    }
}
