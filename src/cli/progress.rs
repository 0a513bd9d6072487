//! Workflow progress on a terminal: one indicatif spinner per step, on stderr.

use crate::workflow::progress::{Progress, Silent};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

pub struct Spinners {
    current: Mutex<Option<ProgressBar>>,
}

impl Spinners {
    /// Spinners when both stdout and stderr are terminals; None (quiet) otherwise.
    fn for_terminal() -> Option<Self> {
        (std::io::stdout().is_terminal() && std::io::stderr().is_terminal()).then(|| Self {
            current: Mutex::new(None),
        })
    }
}

/// Spinners on a terminal, silence otherwise.
pub fn reporter() -> Box<dyn Progress> {
    match Spinners::for_terminal() {
        Some(s) => Box::new(s),
        None => Box::new(Silent),
    }
}

impl Progress for Spinners {
    fn step_started(&self, idx: u32, total: u32, name: &str, attempt: u32) {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} [{prefix}] {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_prefix(format!("{}/{total}", idx + 1));
        let retry = if attempt > 1 {
            format!(" (attempt {attempt})")
        } else {
            String::new()
        };
        pb.set_message(format!("{name}{retry}"));
        pb.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut cur) = self.current.lock() {
            *cur = Some(pb);
        }
    }

    fn message(&self, text: &str) {
        if let Ok(cur) = self.current.lock() {
            if let Some(pb) = cur.as_ref() {
                pb.set_message(text.to_string());
            }
        }
    }

    fn bytes(&self, done: u64, total: u64) {
        if let Ok(cur) = self.current.lock() {
            if let Some(pb) = cur.as_ref() {
                if pb.length() != Some(total) {
                    pb.set_length(total);
                    // Without a total, the bytes moved and the rate.
                    let template = if total > 0 {
                        "{spinner} [{prefix}] {msg} {bytes}/{total_bytes} {bytes_per_sec} {elapsed}"
                    } else {
                        "{spinner} [{prefix}] {msg} {bytes} {bytes_per_sec} {elapsed}"
                    };
                    pb.set_style(
                        ProgressStyle::with_template(template)
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                }
                pb.set_position(done);
            }
        }
    }

    fn step_finished(&self, idx: u32, name: &str, error: Option<&str>) {
        if let Ok(mut cur) = self.current.lock() {
            if let Some(pb) = cur.take() {
                match error {
                    None => pb.finish_with_message(format!("{name} done")),
                    Some(e) => pb.abandon_with_message(format!("{name} failed: {e}")),
                }
            }
        }
        let _ = idx;
    }
}
