//! Escaping for the text formats: XML/HTML, Markdown, Mermaid and Graphviz
//! labels. Everything a report prints from a snapshot is user data (policy
//! text, names), so every renderer goes through one of these.

/// XML 1.0 cannot carry most control characters, even escaped: they become
/// U+FFFD so the document stays well-formed.
fn xml_char_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || ('\u{20}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

/// Text content of an XML or HTML element.
pub fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    // runs of bytes that need no escape are copied whole; outside ASCII only
    // U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        let (rep, len) = match b[i] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            c if c < 0x20 => ("\u{FFFD}", 1),
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                ("\u{FFFD}", 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[run..i]);
        out.push_str(rep);
        i += len;
        run = i;
    }
    out.push_str(&s[run..]);
    out
}

/// An XML or HTML attribute value (inside double quotes). Line breaks and tabs
/// are written as character references so that parsers keep them.
pub fn xml_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if xml_char_ok(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Markdown inline text, e.g. a table cell: Markdown and HTML syntax outside
/// `code spans` is escaped, `|` everywhere (GitHub splits cells on it even
/// inside code spans), and line breaks become `<br>`.
pub fn md_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut in_code = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '`' => {
                // a code span opens only if it closes on the same line
                if in_code
                    || chars[i + 1..]
                        .iter()
                        .take_while(|&&d| d != '\n')
                        .any(|&d| d == '`')
                {
                    in_code = !in_code;
                    out.push('`');
                } else {
                    out.push_str("\\`");
                }
            }
            '|' => out.push_str("\\|"),
            '\n' => {
                in_code = false;
                out.push_str("<br>");
            }
            '\r' => {}
            _ if in_code => out.push(c),
            // GFM never reads an underscore inside a word as emphasis
            '_' if i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push('_')
            }
            '\\' | '*' | '_' | '[' | ']' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// A fenced code block whose fence is longer than any backtick run inside.
pub fn md_fence(lang: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    let body = body.trim_end_matches('\n');
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

/// Text inside a Mermaid `"..."` label: Mermaid's entity codes for the
/// characters its parser or the HTML label would take as syntax.
pub fn mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a Graphviz `"..."` string; `\n` in the input becomes a
/// centred line break.
pub fn dot(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(xml_text("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(xml_attr("\"x'\ny"), "&quot;x&#39;&#10;y");
        assert_eq!(xml_text("bell\u{7}"), "bell\u{FFFD}");
        assert_eq!(xml_text("tab\tok’"), "tab\tok’");
    }

    #[test]
    fn xml_text_by_bytes_agrees_with_the_xml_character_rule() {
        let reference = |s: &str| -> String {
            s.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_string(),
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    c if xml_char_ok(c) => c.to_string(),
                    _ => "\u{FFFD}".to_string(),
                })
                .collect()
        };
        for s in [
            "",
            "plain",
            "\u{0}\u{1f}\t\n\r\u{7f}\u{85}\u{9f}",
            "\u{D7FF}\u{E000}\u{FFFD}\u{FFFE}\u{FFFF}\u{10000}\u{1F600}\u{10FFFF}",
            "\u{EFBF}\u{FFBE}x\u{FFFE}<\u{FFFF}&",
            "arn:aws:s3:::a/’b’<c>",
        ] {
            assert_eq!(xml_text(s), reference(s), "{s:?}");
        }
    }

    #[test]
    fn markdown_cells_escape_pipes_even_in_code() {
        assert_eq!(md_inline("a | b"), "a \\| b");
        assert_eq!(md_inline("`x|y` *z*"), "`x\\|y` \\*z\\*");
        assert_eq!(
            md_inline("s3:GetObject on alice-data/*"),
            "s3:GetObject on alice-data/\\*"
        );
        assert_eq!(md_inline("<script>"), "&lt;script&gt;");
        assert_eq!(md_inline("`<keep>`"), "`<keep>`");
        assert_eq!(md_inline("one ` tick"), "one \\` tick");
        assert_eq!(md_inline("two\nlines"), "two<br>lines");
        assert_eq!(md_inline("role/Bobs_Data _x_"), "role/Bobs_Data \\_x\\_");
    }

    #[test]
    fn fences_outgrow_backticks_inside() {
        assert_eq!(md_fence("sh", "echo hi\n"), "```sh\necho hi\n```\n");
        assert_eq!(md_fence("", "a ```` b"), "`````\na ```` b\n`````\n");
    }

    #[test]
    fn mermaid_and_dot_labels_cannot_break_out() {
        assert_eq!(mermaid("a\"b]#<c>"), "a#quot;b]#35;#lt;c#gt;");
        assert_eq!(dot("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
