//! The census's progress bar on standard error: objects headed out of those
//! listed so far, the rate, and the time left. Drawn only when standard
//! error is a terminal; otherwise nothing is written at all.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar when `wanted` and standard error is a terminal.
    pub fn new(wanted: bool) -> Progress {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let style = ProgressStyle::with_template(
            "census {spinner} {pos}/{len}{msg} objects  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(style);
        bar.set_message("+ (listing)");
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(Some(bar))
    }

    /// `n` more objects listed.
    pub fn listed(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc_length(n);
        }
    }

    /// The listing is complete: the total is known.
    pub fn listing_done(&self) {
        if let Some(b) = &self.0 {
            b.set_message("");
        }
    }

    /// One more object headed.
    pub fn headed(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    /// Remove the bar (the report follows on a clean screen).
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
