//! `--format mermaid` and `--format dot`: the chain drawn from the real state —
//! account A (source bucket, its objects, source key) and account B (role,
//! destination bucket, destination key), one edge per link labelled with its
//! check ids, coloured by status (green pass, red fail, orange unknown, yellow
//! warn, grey skip). The graph itself is [`super::chain::Graph`].

use super::Report;
use super::chain::{Graph, Node, Place, colour};
use super::escape;

fn node_lines(g: &Graph<'_>, n: &Node) -> Vec<String> {
    let mut lines = vec![n.kind.to_string()];
    lines.extend(n.names.iter().cloned());
    if !n.checks.is_empty() {
        lines.push(g.marks(&n.checks));
    }
    lines
}

fn status_class(s: Option<crate::checks::Status>) -> &'static str {
    s.map_or("neutral", |s| s.as_str())
}

pub fn mermaid(r: &Report) -> String {
    let g = Graph::new(r);
    let mut out = String::from("flowchart LR\n");
    let node = |out: &mut String, n: &Node, indent: &str| {
        let label = node_lines(&g, n)
            .iter()
            .map(|l| escape::mermaid(l))
            .collect::<Vec<_>>()
            .join("<br/>");
        out.push_str(&format!("{indent}{}[\"{label}\"]\n", n.id));
    };
    for n in g.nodes.iter().filter(|n| n.place == Place::Outside) {
        node(&mut out, n, "  ");
    }
    for (place, id) in [(Place::A, "account_a"), (Place::B, "account_b")] {
        out.push_str(&format!(
            "  subgraph {id}[\"{}\"]\n",
            escape::mermaid(&g.account_title(place))
        ));
        for n in g.nodes.iter().filter(|n| n.place == place) {
            node(&mut out, n, "    ");
        }
        out.push_str("  end\n");
    }
    let mut styles = Vec::new();
    for (i, e) in g.edges.iter().enumerate() {
        if e.checks.is_empty() {
            out.push_str(&format!(
                "  {} -.->|\"{}\"| {}\n",
                e.from,
                escape::mermaid(e.caption),
                e.to
            ));
            continue;
        }
        let label = format!(
            "{}<br/>{}",
            escape::mermaid(&g.marks(&e.checks)),
            escape::mermaid(e.caption)
        );
        out.push_str(&format!("  {} -->|\"{label}\"| {}\n", e.from, e.to));
        let (stroke, _) = colour(g.status(&e.checks));
        styles.push(format!(
            "  linkStyle {i} stroke:{stroke},stroke-width:2px,color:{stroke}\n"
        ));
    }
    for s in styles {
        out.push_str(&s);
    }
    for s in [
        None,
        Some(crate::checks::Status::Pass),
        Some(crate::checks::Status::Fail),
        Some(crate::checks::Status::Unknown),
        Some(crate::checks::Status::Warn),
        Some(crate::checks::Status::Skip),
    ] {
        let (stroke, fill) = colour(s);
        out.push_str(&format!(
            "  classDef {} fill:{fill},stroke:{stroke},color:#1f2328\n",
            status_class(s)
        ));
    }
    let mut by_class: Vec<(&str, Vec<&str>)> = Vec::new();
    for n in &g.nodes {
        let class = status_class(g.status(&n.checks));
        match by_class.iter_mut().find(|(c, _)| *c == class) {
            Some((_, ids)) => ids.push(n.id),
            None => by_class.push((class, vec![n.id])),
        }
    }
    for (class, ids) in by_class {
        out.push_str(&format!("  class {} {class}\n", ids.join(",")));
    }
    out
}

pub fn dot(r: &Report) -> String {
    let g = Graph::new(r);
    let mut out = String::from("digraph xacct {\n");
    out.push_str(&format!(
        "  graph [rankdir=LR, fontname=\"Helvetica\", labelloc=t, label=\"{}\"];\n",
        escape::dot(&format!(
            "xacct doctor: {} → {} — {}",
            r.copy.source,
            r.copy.destination,
            r.verdict.as_str().to_uppercase()
        ))
    ));
    out.push_str(
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];\n",
    );
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    let node = |out: &mut String, n: &Node, indent: &str| {
        let s = g.status(&n.checks);
        let (stroke, fill) = colour(s);
        let width = if s.is_some() { 2 } else { 1 };
        out.push_str(&format!(
            "{indent}{} [label=\"{}\", color=\"{stroke}\", fillcolor=\"{fill}\", penwidth={width}];\n",
            n.id,
            escape::dot(&node_lines(&g, n).join("\n"))
        ));
    };
    for n in g.nodes.iter().filter(|n| n.place == Place::Outside) {
        node(&mut out, n, "  ");
    }
    for (place, id) in [
        (Place::A, "cluster_account_a"),
        (Place::B, "cluster_account_b"),
    ] {
        out.push_str(&format!(
            "  subgraph {id} {{\n    label=\"{}\";\n    style=rounded;\n    color=\"#8c959f\";\n",
            escape::dot(&g.account_title(place))
        ));
        for n in g.nodes.iter().filter(|n| n.place == place) {
            node(&mut out, n, "    ");
        }
        out.push_str("  }\n");
    }
    for e in &g.edges {
        if e.checks.is_empty() {
            out.push_str(&format!(
                "  {} -> {} [label=\"{}\", style=dashed, color=\"#8c959f\", fontcolor=\"#57606a\"];\n",
                e.from,
                e.to,
                escape::dot(e.caption)
            ));
            continue;
        }
        let (stroke, _) = colour(g.status(&e.checks));
        out.push_str(&format!(
            "  {} -> {} [label=\"{}\", color=\"{stroke}\", fontcolor=\"{stroke}\", penwidth=2];\n",
            e.from,
            e.to,
            escape::dot(&format!("{}\n{}", g.marks(&e.checks), e.caption))
        ));
    }
    out.push_str("}\n");
    out
}
