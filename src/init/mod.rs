//! `xacct init`: write the seven documents of a correct setup with the AWS CLI
//! commands that apply them — printed, or as files plus an `apply.sh` that runs
//! them in order, each in its own account. `setup` builds them; this module
//! renders and writes.

pub mod setup;

use std::io::Write;
use std::path::Path;

pub use setup::{Setup, Spec, build};

use crate::cli::InitArgs;
use crate::exit;

pub fn run(args: &InitArgs) -> u8 {
    let spec = Spec {
        source: args.source.clone(),
        destination: args.destination.clone(),
        role: args.role.clone(),
        source_key: args.source_key.clone(),
        destination_key: args.destination_key.clone(),
        caller: args.caller.clone(),
    };
    let setup = match build(&spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(render(&setup).as_bytes());
            let _ = out.flush();
            0
        }
        Some(dir) => match write_dir(&setup, dir) {
            Ok(files) => {
                println!("wrote {} files into {}:", files.len(), dir.display());
                for f in &files {
                    println!("  {f}");
                }
                println!(
                    "\nApply with: PROFILE_A=<profile for account {}> PROFILE_B=<profile for account {}> {}/apply.sh",
                    setup.account_a,
                    setup.account_b,
                    dir.display()
                );
                print_placeholders(&setup);
                0
            }
            Err(e) => {
                eprintln!("error: cannot write into {}: {e}", dir.display());
                exit::INPUT
            }
        },
    }
}

fn print_placeholders(s: &Setup) {
    if s.placeholders.is_empty() {
        return;
    }
    println!(
        "\nReplace these placeholders in the files first (apply.sh refuses to run while one is left):"
    );
    for (name, what) in &s.placeholders {
        println!("  {name}: {what}");
    }
}

/// Text as `# ` comment lines of at most 100 characters.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > 100 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn account_label(s: &Setup, side: setup::Side) -> String {
    match side {
        setup::Side::A => format!("account A ({})", s.account_a),
        setup::Side::B => format!("account B ({})", s.account_b),
    }
}

fn header(s: &Setup) -> Vec<String> {
    let mut h = vec![
        format!(
            "xacct init: copy s3://{}/{} -> s3://{}/{} as {}",
            s.source.bucket, s.source.prefix, s.destination.bucket, s.destination.prefix, s.role_arn
        ),
        format!(
            "account A (source): {}   account B (destination, role): {}",
            s.account_a, s.account_b
        ),
        format!("source key: {}", s.source_key),
        format!("destination key: {}", s.destination_key),
        "Apply in the order below: B's role first, because S3 and KMS refuse a policy that names a role that does not exist yet.".into(),
        "PROFILE_A / PROFILE_B: AWS CLI profiles with admin rights in account A / account B.".into(),
    ];
    h.extend(s.notes.iter().cloned());
    h
}

/// The order the documents and steps are applied in: B's side, then A's.
fn order(s: &Setup) -> Vec<Item<'_>> {
    let mut items: Vec<Item<'_>> = Vec::new();
    for d in s.documents.iter().filter(|d| d.side == setup::Side::B) {
        items.push(Item::Doc(d));
    }
    if let Some(enc) = s.steps.first() {
        items.push(Item::Step(enc));
    }
    for d in s.documents.iter().filter(|d| d.side == setup::Side::A) {
        items.push(Item::Doc(d));
    }
    for st in s.steps.iter().skip(1) {
        items.push(Item::Step(st));
    }
    items
}

enum Item<'s> {
    Doc(&'s setup::Document),
    Step(&'s setup::Step),
}

/// Everything on standard output: each document with its account and command.
pub fn render(s: &Setup) -> String {
    let mut out = String::new();
    for line in header(s) {
        out.push_str(&comment(&line));
    }
    if !s.placeholders.is_empty() {
        out.push_str("# Placeholders to replace:\n");
        for (n, w) in &s.placeholders {
            out.push_str(&format!("#   {n}: {w}\n"));
        }
    }
    for d in &s.documents {
        out.push_str(&format!("\n## {}. {}\n", d.step, d.title));
        out.push_str(&format!(
            "# in {}; file {}\n",
            account_label(s, d.side),
            d.file
        ));
        out.push_str(&comment(&d.note));
        out.push_str(&pretty(&d.policy));
        out.push('\n');
    }
    out.push_str("\n## Commands, in order\n");
    for (i, item) in order(s).iter().enumerate() {
        let (title, side, apply) = match item {
            Item::Doc(d) => (format!("{} ({})", d.title, d.file), d.side, &d.apply),
            Item::Step(st) => (st.title.clone(), st.side, &st.apply),
        };
        out.push_str(&format!(
            "# {}. in {}: {title}\n",
            i + 1,
            account_label(s, side)
        ));
        for line in apply {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The apply script: each command in its account, placeholders refused.
pub fn apply_script(s: &Setup) -> String {
    let mut out = String::from("#!/usr/bin/env bash\n");
    for line in header(s) {
        out.push_str(&comment(&line));
    }
    out.push_str(&format!(
        "#\n# Run: PROFILE_A=<profile for {}> PROFILE_B=<profile for {}> ./apply.sh\n# It stops before replacing an existing bucket or key policy (saving the current one as\n# current-*.json to merge); rerun with REPLACE_POLICIES=yes once the files hold the merge.\n",
        s.account_a, s.account_b
    ));
    out.push_str("set -euo pipefail\ncd \"$(dirname \"$0\")\"\n");
    out.push_str(&format!(
        ": \"${{PROFILE_A:?set PROFILE_A to an AWS CLI profile for account A ({})}}\"\n",
        s.account_a
    ));
    out.push_str(&format!(
        ": \"${{PROFILE_B:?set PROFILE_B to an AWS CLI profile for account B ({})}}\"\n",
        s.account_b
    ));
    // `X[Y]Z` so that this very line does not match its own pattern
    let names: Vec<String> = setup::PLACEHOLDERS
        .iter()
        .map(|(n, _)| format!("{}[{}]{}", &n[..1], &n[1..2], &n[2..]))
        .collect();
    out.push_str(&format!(
        "if grep -l -E '{}' ./*.json ./apply.sh; then\n  echo \"apply.sh: replace the placeholders in the files above first, e.g. sed -i 's/SOURCE_KEY_ID/1234abcd-.../g' ./*.json ./apply.sh\" >&2\n  exit 1\nfi\n",
        names.join("|")
    ));
    for (i, item) in order(s).iter().enumerate() {
        let (title, side, apply, note, guard) = match item {
            Item::Doc(d) => (
                format!("{} ({})", d.title, d.file),
                d.side,
                &d.apply,
                &d.note,
                d.guard.as_slice(),
            ),
            Item::Step(st) => (st.title.clone(), st.side, &st.apply, &st.note, &[][..]),
        };
        out.push_str(&format!(
            "\n# {}. account {}: {title}\n",
            i + 1,
            side.name()
        ));
        out.push_str(&comment(note));
        out.push_str(&format!(
            "echo \"==> {}. account {}: {}\"\n",
            i + 1,
            side.name(),
            title.replace('"', "'").replace('$', "")
        ));
        for line in guard {
            out.push_str(line);
            out.push('\n');
        }
        // a guard that ends in `else` wraps the command in its last branch
        let wrapped = guard.last().is_some_and(|l| l == "else");
        for line in apply {
            if wrapped {
                out.push_str("  ");
            }
            out.push_str(line);
            out.push('\n');
        }
        if wrapped {
            out.push_str("fi\n");
        }
    }
    out
}

/// Write one JSON file per document and `apply.sh`; returns the file names.
pub fn write_dir(s: &Setup, dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    for d in &s.documents {
        std::fs::write(dir.join(&d.file), pretty(&d.policy) + "\n")?;
        files.push(d.file.clone());
    }
    let script = dir.join("apply.sh");
    std::fs::write(&script, apply_script(s))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    }
    files.push("apply.sh".into());
    Ok(files)
}
