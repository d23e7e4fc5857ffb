//! Located input errors rendered with miette: every problem points at its span
//! in the file (or the policy string) it came from.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use crate::json::Span;
use crate::policy::Source;

/// One problem at one place.
#[derive(Debug, Clone)]
pub struct Located {
    pub source: Arc<Source>,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// What is shown: the source itself, or an excerpt when its line is huge.
    shown: (Arc<Source>, Span),
}

/// Longest line shown whole; beyond it only a window around the span is shown.
const MAX_LINE: usize = 240;

/// A window of the text around `span` when the span's line is too long to
/// show (a minified policy, or hostile input), with the span moved into it.
pub fn excerpt(source: &Arc<Source>, span: Span) -> (Arc<Source>, Span) {
    let text = &source.text;
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    if line_end - line_start <= MAX_LINE {
        return (source.clone(), span);
    }
    let floor = |mut i: usize| {
        while i > 0 && !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let from = floor(start.saturating_sub(60).max(line_start));
    let span_end = span.end.min(line_end).min(start + 160);
    let to = floor((span_end + 60).min(line_end));
    let lead = if from > line_start { "…" } else { "" };
    let tail = if to < line_end { "…" } else { "" };
    let (line, col) = crate::json::line_col(text, start);
    let shown = Source::new(
        format!("{} (line {line}, column {col}, excerpt)", source.name),
        format!("{lead}{}{tail}", &text[from..to]),
    );
    let off = lead.len();
    let new_span = Span::new(start - from + off, floor(span_end).max(start) - from + off);
    (shown, new_span)
}

impl Located {
    pub fn new(source: &Arc<Source>, span: Span, message: impl Into<String>) -> Self {
        Located {
            source: source.clone(),
            span,
            message: message.into(),
            help: None,
            shown: excerpt(source, span),
        }
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        let h = help.into();
        if !h.is_empty() {
            self.help = Some(h);
        }
        self
    }
    /// The span to underline in what is shown (moved into the excerpt when
    /// the line is too long to show whole).
    pub fn shown_span(&self) -> Span {
        self.shown.1
    }
    /// `file:line:col: message`, for one-line output (batch mode, JSON).
    pub fn one_line(&self) -> String {
        let (l, c) = crate::json::line_col(&self.source.text, self.span.start);
        format!("{}:{l}:{c}: {}", self.source.name, self.message)
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Located {}

impl Diagnostic for Located {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.shown.0 as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".into()),
            self.shown.1,
        ))))
    }
}

/// Several problems found at once, reported together.
#[derive(Debug, Clone)]
pub struct Problems {
    pub title: String,
    pub items: Vec<Located>,
}

impl Problems {
    pub fn one_line(&self) -> String {
        let parts: Vec<String> = self.items.iter().map(Located::one_line).collect();
        format!("{}: {}", self.title, parts.join("; "))
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl std::error::Error for Problems {}

impl Diagnostic for Problems {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.items.iter().map(|i| i as &dyn Diagnostic)))
    }
}

/// A file that is not UTF-8: located at the first bad byte (shown as U+FFFD).
pub fn not_utf8(name: &str, bytes: &[u8], at: usize) -> Problems {
    let text = String::from_utf8_lossy(bytes).into_owned();
    // the lossy text is the same up to `at`, so the offset still holds
    let at = at.min(text.len());
    let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    let source = Source::new(name, text);
    Problems {
        title: format!("{name} is not UTF-8 text"),
        items: vec![
            Located::new(&source, Span::new(at, end), "invalid UTF-8 here")
                .help("save the file as UTF-8 JSON"),
        ],
    }
}

/// Render a diagnostic as text (colourless when `color` is false).
pub fn render(diag: &dyn Diagnostic, color: bool) -> String {
    let handler = if color {
        miette::GraphicalReportHandler::new()
    } else {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
    }
    .with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, diag).is_err() {
        out = diag.to_string();
    }
    out
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}
