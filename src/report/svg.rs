//! The chain as an SVG picture, laid out by hand: the graph always has the
//! same eight nodes, so each has a fixed place — account A's box on the left
//! (source bucket, its objects, source key), account B's on the right (role,
//! destination bucket, destination key), the caller and the organizations
//! above. Lines are clipped to the boxes and labelled with their checks.
//! No fonts are measured: text longer than its box is cut with an ellipsis
//! (the full text is in the element's tooltip).

use super::Report;
use super::chain::{Graph, Node, Place, colour};
use super::escape::xml_text;
use crate::checks::Status;

const WIDTH: f64 = 1180.0;
const HEIGHT: f64 = 634.0;
const LINE: f64 = 16.0;
/// Rough advance of one character at 12px in a sans-serif font.
const CHAR: f64 = 7.2;

#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn centre(self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    /// Where the line from the centre towards `to` leaves the box.
    fn exit_towards(self, to: (f64, f64)) -> (f64, f64) {
        let (cx, cy) = self.centre();
        let (dx, dy) = (to.0 - cx, to.1 - cy);
        if dx == 0.0 && dy == 0.0 {
            return (cx, cy);
        }
        let tx = if dx == 0.0 {
            f64::INFINITY
        } else {
            (self.w / 2.0) / dx.abs()
        };
        let ty = if dy == 0.0 {
            f64::INFINITY
        } else {
            (self.h / 2.0) / dy.abs()
        };
        let t = tx.min(ty);
        (cx + dx * t, cy + dy * t)
    }
}

/// Centre and width of each node (heights follow the number of lines).
fn place(id: &str) -> (f64, f64, f64) {
    match id {
        "org" => (205.0, 50.0, 330.0),
        "caller" => (705.0, 50.0, 300.0),
        "sb" => (230.0, 172.0, 330.0),
        "objects" => (230.0, 318.0, 330.0),
        "sk" => (230.0, 470.0, 330.0),
        "role" => (705.0, 318.0, 250.0),
        "db" => (1000.0, 172.0, 310.0),
        _ => (1000.0, 470.0, 310.0), // dk
    }
}

fn node_lines(g: &Graph<'_>, n: &Node) -> Vec<String> {
    let mut lines = vec![n.kind.to_string()];
    lines.extend(n.names.iter().cloned());
    if !n.checks.is_empty() {
        lines.push(g.marks(&n.checks));
    }
    lines
}

fn rect_of(g: &Graph<'_>, n: &Node) -> Rect {
    let (cx, cy, w) = place(n.id);
    let h = 12.0 + LINE * node_lines(g, n).len() as f64;
    Rect {
        x: cx - w / 2.0,
        y: cy - h / 2.0,
        w,
        h,
    }
}

fn fit(s: &str, width: f64) -> String {
    let max = ((width - 16.0) / CHAR).max(4.0) as usize;
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max - 1).collect();
    format!("{cut}…")
}

fn class(s: Option<Status>) -> &'static str {
    s.map_or("neutral", |s| s.as_str())
}

fn tooltip(g: &Graph<'_>, ids: &[&'static str]) -> String {
    ids.iter()
        .filter_map(|id| g.finding(id))
        .map(|f| format!("{} {} ({}): {}", f.id, f.slug, f.status.as_str(), f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn render(r: &Report) -> String {
    let g = Graph::new(r);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-labelledby=\"chain-title\" font-family=\"DejaVu Sans, Verdana, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
    );
    out.push_str(&format!(
        "<title id=\"chain-title\">The permission chain of the copy {} → {}: {}</title>\n",
        xml_text(&r.copy.source),
        xml_text(&r.copy.destination),
        xml_text(r.verdict.as_str())
    ));
    out.push_str("<defs>\n");
    for s in [
        None,
        Some(Status::Pass),
        Some(Status::Fail),
        Some(Status::Unknown),
        Some(Status::Warn),
        Some(Status::Skip),
    ] {
        out.push_str(&format!(
            "<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"12\" markerHeight=\"12\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>\n",
            class(s),
            colour(s).0
        ));
    }
    out.push_str("</defs>\n");
    out.push_str(&format!(
        "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>\n"
    ));
    // the account boxes
    for (place, x, w) in [(Place::A, 20.0, 420.0), (Place::B, 560.0, 600.0)] {
        out.push_str(&format!(
            "<g class=\"account\"><rect x=\"{x}\" y=\"100\" width=\"{w}\" height=\"470\" rx=\"12\" fill=\"#f6f8fa\" stroke=\"#8c959f\" stroke-dasharray=\"6 4\"/><text x=\"{}\" y=\"558\" font-weight=\"bold\" fill=\"#57606a\">{}</text></g>\n",
            x + 14.0,
            xml_text(&g.account_title(place))
        ));
    }
    // edges under the nodes
    for e in &g.edges {
        let (Some(from), Some(to)) = (g.node(e.from), g.node(e.to)) else {
            continue;
        };
        let (ra, rb) = (rect_of(&g, from), rect_of(&g, to));
        let (x1, y1) = ra.exit_towards(rb.centre());
        let (x2, y2) = rb.exit_towards(ra.centre());
        let st = g.status(&e.checks);
        let (stroke, _) = colour(st);
        let dash = if e.checks.is_empty() {
            " stroke-dasharray=\"4 4\""
        } else {
            ""
        };
        let lines: Vec<String> = if e.checks.is_empty() {
            vec![e.caption.to_string()]
        } else {
            vec![g.marks(&e.checks), e.caption.to_string()]
        };
        let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
        let lw = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64 * CHAR + 12.0;
        let lh = LINE * lines.len() as f64 + 4.0;
        out.push_str(&format!(
            "<g class=\"edge status-{}\" id=\"edge-{}-{}\"><title>{}</title>\n",
            class(st),
            e.from,
            e.to,
            xml_text(&if e.checks.is_empty() {
                e.caption.to_string()
            } else {
                tooltip(&g, &e.checks)
            })
        ));
        out.push_str(&format!(
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"{}\"{dash} marker-end=\"url(#arrow-{})\"/>\n",
            if st.is_some() { 2.5 } else { 1.5 },
            class(st)
        ));
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{lw:.1}\" height=\"{lh:.1}\" rx=\"4\" fill=\"#ffffff\" stroke=\"{stroke}\" stroke-width=\"0.8\"/>\n",
            mx - lw / 2.0,
            my - lh / 2.0
        ));
        out.push_str(&format!(
            "<text text-anchor=\"middle\" fill=\"{stroke}\" font-size=\"11.5\">"
        ));
        for (i, l) in lines.iter().enumerate() {
            out.push_str(&format!(
                "<tspan x=\"{mx:.1}\" y=\"{:.1}\"{}>{}</tspan>",
                my - lh / 2.0 + 2.0 + LINE * (i as f64 + 0.8),
                if i == 0 && !e.checks.is_empty() {
                    " font-weight=\"bold\""
                } else {
                    ""
                },
                xml_text(l)
            ));
        }
        out.push_str("</text></g>\n");
    }
    for n in &g.nodes {
        let rc = rect_of(&g, n);
        let st = g.status(&n.checks);
        let (stroke, fill) = colour(st);
        let lines = node_lines(&g, n);
        let mut tip = lines[..lines.len() - usize::from(!n.checks.is_empty())].join("\n");
        if !n.checks.is_empty() {
            tip.push('\n');
            tip.push_str(&tooltip(&g, &n.checks));
        }
        out.push_str(&format!(
            "<g class=\"node status-{}\" id=\"node-{}\"><title>{}</title>\n",
            class(st),
            n.id,
            xml_text(&tip)
        ));
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>\n",
            rc.x,
            rc.y,
            rc.w,
            rc.h,
            if st.is_some() { 2 } else { 1 }
        ));
        out.push_str("<text text-anchor=\"middle\" fill=\"#1f2328\">");
        let cx = rc.x + rc.w / 2.0;
        for (i, l) in lines.iter().enumerate() {
            let last_marks = i + 1 == lines.len() && !n.checks.is_empty();
            let attrs = if i == 0 {
                " font-size=\"11\" fill=\"#57606a\"".to_string()
            } else if last_marks {
                format!(" font-weight=\"bold\" fill=\"{stroke}\"")
            } else {
                " font-weight=\"bold\"".to_string()
            };
            out.push_str(&format!(
                "<tspan x=\"{cx:.1}\" y=\"{:.1}\"{attrs}>{}</tspan>",
                rc.y + 6.0 + LINE * (i as f64 + 0.85),
                xml_text(&fit(l, rc.w))
            ));
        }
        out.push_str("</text></g>\n");
    }
    // legend
    let mut x = 20.0;
    out.push_str("<g class=\"legend\">");
    for s in [
        Status::Pass,
        Status::Fail,
        Status::Unknown,
        Status::Warn,
        Status::Skip,
    ] {
        let (stroke, fill) = colour(Some(s));
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"604\" width=\"18\" height=\"14\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/><text x=\"{}\" y=\"615\" fill=\"#1f2328\">{} {}</text>",
            x + 24.0,
            super::chain::mark(s),
            s.as_str()
        ));
        x += 110.0;
    }
    out.push_str(&format!(
        "<text x=\"{x}\" y=\"615\" fill=\"#57606a\">each line is a link of the chain, labelled with the checks that judge it</text>"
    ));
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chain::tests::walkthrough;

    #[test]
    fn every_node_and_edge_is_drawn_with_finite_coordinates() {
        let r = walkthrough("as-published");
        let svg = render(&r);
        let g = Graph::new(&r);
        for n in &g.nodes {
            assert!(svg.contains(&format!("id=\"node-{}\"", n.id)), "{}", n.id);
        }
        for e in &g.edges {
            assert!(svg.contains(&format!("id=\"edge-{}-{}\"", e.from, e.to)));
        }
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        // the broken links are red, the others green
        assert!(svg.contains("class=\"edge status-fail\" id=\"edge-role-sb\""));
        assert!(svg.contains("class=\"edge status-pass\" id=\"edge-role-db\""));
    }

    #[test]
    fn long_names_are_cut_to_the_box() {
        assert_eq!(fit("short", 200.0), "short");
        let cut = fit(&"x".repeat(100), 200.0);
        assert!(cut.ends_with('…') && cut.chars().count() < 30);
    }
}
