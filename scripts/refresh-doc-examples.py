#!/usr/bin/env python3
"""Refresh the example outputs quoted in README.md and docs/*.md from the golden
files (tests/golden/, rewritten by `XACCT_BLESS=1 cargo test --test formats_golden`).
The tests check that the docs quote the real output; this keeps them in step."""
import os, pathlib, re, subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
G = ROOT / "tests" / "golden"


def golden(ext):
    return (G / f"walkthrough-as-published.{ext}").read_text()


def replace_block(doc, lang, body):
    pat = re.compile(r"(```" + lang + r"\n)(.*?)(```)", re.S)
    return pat.sub(lambda m: m.group(1) + body + m.group(3), doc, count=1)


def run_console_blocks(doc):
    """Re-run every ```console block's `$ xacct ...` commands (with the debug
    binary on PATH) and put their real output under them."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="100")
    env["PATH"] = f"{ROOT / 'target' / 'debug'}:{env['PATH']}"

    def redo(m):
        lines = m.group(2).split("\n")
        cmds = [l[2:] for l in lines if l.startswith("$ ")]
        if not cmds or not all(c.startswith("xacct") for c in cmds):
            return m.group(0)
        # only self-contained commands that print: no continuation lines, no files written
        if any(l.rstrip().endswith("\\") for l in lines) or any(
            t in c for c in cmds for t in (" > ", " -o ", ">>", "completions", " man")
        ):
            return m.group(0)
        out = []
        for c in cmds:
            r = subprocess.run(["bash", "-c", f"{{ {c} ; }} 2>&1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            out.append(f"$ {c}")
            out.append(r.stdout.rstrip("\n"))
        return m.group(1) + "\n".join(out) + "\n" + m.group(3)

    return re.sub(r"(```console\n)(.*?)(```)", redo, doc, flags=re.S)


def main():
    md_rows = {l.split("|")[1].strip(): l for l in golden("md").splitlines() if l.startswith("| XA0")}
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        doc = path.read_text()
        new = run_console_blocks(doc)
        if "```mermaid\n" in new:
            new = replace_block(new, "mermaid", golden("mmd"))
        if "```dot\n" in new:
            new = replace_block(new, "dot", golden("dot"))
        lines = []
        for l in new.split("\n"):
            m = re.match(r"\| (XA0\d\d) \|", l)
            if m and any(e in l for e in ["✅", "❌", "❓", "⚠️", "⏭️"]) and m.group(1) in md_rows:
                l = md_rows[m.group(1)]
            lines.append(l)
        new = "\n".join(lines)
        if new != doc:
            path.write_text(new)
            print(f"refreshed {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
