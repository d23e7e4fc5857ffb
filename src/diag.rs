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
}

impl Located {
    pub fn new(source: &Arc<Source>, span: Span, message: impl Into<String>) -> Self {
        Located {
            source: source.clone(),
            span,
            message: message.into(),
            help: None,
        }
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        let h = help.into();
        if !h.is_empty() {
            self.help = Some(h);
        }
        self
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
        Some(&*self.source as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".into()),
            self.span,
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
