//! Shell completions and the man page come from the clap definitions: each
//! shell's script is produced and knows the subcommands; the man page renders.

use std::process::Command;

fn xacct(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(args)
        .output()
        .expect("xacct runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completion_scripts_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef xacct"),
        ("fish", "complete -c xacct"),
    ] {
        let (code, out, err) = xacct(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {err}");
        assert!(out.contains(marker), "{shell}: no `{marker}`");
        for sub in ["doctor", "explain", "lint", "init"] {
            assert!(out.contains(sub), "{shell} completion lacks `{sub}`");
        }
        assert!(out.contains("role-arn"), "{shell}: flags are completed");
    }
}

#[test]
fn bash_completion_is_valid_bash() {
    let (_, out, _) = xacct(&["completions", "bash"]);
    let path = std::env::temp_dir().join(format!("xacct-completion-{}.bash", std::process::id()));
    std::fs::write(&path, out).expect("writable temp dir");
    if let Ok(s) = Command::new("bash").arg("-n").arg(&path).status() {
        assert!(s.success(), "bash -n rejects the completion script");
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let (code, _, _) = xacct(&["completions", "tcsh"]);
    assert_eq!(code, Some(2));
}

#[test]
fn man_page_renders() {
    let (code, out, err) = xacct(&["man"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with(".ie") || out.contains(".TH xacct"),
        "roff output"
    );
    assert!(out.contains(".TH xacct 1"));
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH SUBCOMMANDS",
    ] {
        assert!(out.contains(section), "man page lacks {section}");
    }
    assert!(out.contains("doctor"));
    // rendered by a real formatter when the machine has one
    if let Ok(child) = Command::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        use std::io::Write;
        let mut child = child;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(out.as_bytes());
        }
        if let Ok(o) = child.wait_with_output()
            && o.status.success()
        {
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(text.contains("xacct"), "man renders the page");
        }
    }
}
