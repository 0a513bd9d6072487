//! Workflow progress on stderr. On a terminal: a spinner per step with bytes, rate and ETA
//! for transfers, replaced when the step ends by a line of its own (so it never runs into
//! what follows, at any width). Without one (cron, CI, a pipe): a plain line when each step
//! ends, with bytes and rate for transfers, and one every 10 s while a step runs long.

use crate::workflow::progress::Progress;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a plain line says that a long step is still running.
const EVERY: Duration = Duration::from_secs(10);

/// The step running and what it has done so far.
struct Step {
    idx: u32,
    total: u32,
    name: String,
    started: Instant,
    /// The most bytes it has reported moving, and of how many (0: unknown).
    bytes: u64,
    of: u64,
    /// The host's last word on it.
    message: Option<String>,
    last_line: Instant,
}

impl Step {
    fn head(&self) -> String {
        format!("[{}/{}] {}", self.idx + 1, self.total, self.name)
    }

    /// "19.0 MiB at 6.2 MiB/s" (and "of 40.0 MiB" while under way); empty without bytes.
    fn transfer(&self, finished: bool) -> String {
        if self.bytes == 0 {
            return String::new();
        }
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = HumanBytes((self.bytes as f64 / secs) as u64);
        if !finished && self.of > self.bytes {
            format!(
                ", {} of {} at {rate}/s",
                HumanBytes(self.bytes),
                HumanBytes(self.of)
            )
        } else {
            format!(", {} at {rate}/s", HumanBytes(self.bytes))
        }
    }

    fn finished_line(&self) -> String {
        format!(
            "{} done in {:.1} s{}",
            self.head(),
            self.started.elapsed().as_secs_f64(),
            self.transfer(true)
        )
    }

    fn running_line(&self) -> String {
        let said = self
            .message
            .as_deref()
            .map_or_else(String::new, |m| format!(": {m}"));
        format!(
            "{} running for {} s{}{said}",
            self.head(),
            self.started.elapsed().as_secs(),
            self.transfer(false)
        )
    }
}

#[derive(Default)]
struct State {
    step: Option<Step>,
    bar: Option<ProgressBar>,
    /// The reporter was dropped: the ticker ends.
    over: bool,
}

/// Progress as lines (and, on a terminal, a spinner) on `out`.
pub struct Lines {
    state: Arc<Mutex<State>>,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    terminal: bool,
}

/// Progress on stderr: a spinner and finished lines on a terminal, plain lines without one.
pub fn reporter() -> Box<dyn Progress> {
    Box::new(Lines::new(
        Box::new(std::io::stderr()),
        std::io::stderr().is_terminal(),
    ))
}

impl Lines {
    pub fn new(out: Box<dyn Write + Send>, terminal: bool) -> Self {
        let lines = Self {
            state: Arc::new(Mutex::new(State::default())),
            out: Arc::new(Mutex::new(out)),
            terminal,
        };
        if !terminal {
            // A step that waits on a server reports nothing for minutes: a clock says it
            // still runs.
            let (state, out) = (lines.state.clone(), lines.out.clone());
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_millis(250));
                let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                if s.over {
                    return;
                }
                if let Some(step) = s.step.as_mut() {
                    if step.last_line.elapsed() >= EVERY {
                        step.last_line = Instant::now();
                        let line = step.running_line();
                        drop(s);
                        say(&out, &line);
                    }
                }
            });
        }
        lines
    }

    fn with_step(&self, f: impl FnOnce(&mut Step, Option<&ProgressBar>)) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let State { step, bar, .. } = &mut *s;
        if let Some(step) = step.as_mut() {
            f(step, bar.as_ref());
        }
    }
}

fn say(out: &Mutex<Box<dyn Write + Send>>, line: &str) {
    let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
    let _ = writeln!(o, "{line}");
    let _ = o.flush();
}

impl Drop for Lines {
    fn drop(&mut self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.over = true;
        if let Some(bar) = s.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn spinner(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Progress for Lines {
    fn step_started(&self, idx: u32, total: u32, name: &str, attempt: u32) {
        let retry = if attempt > 1 {
            format!(" (attempt {attempt})")
        } else {
            String::new()
        };
        let step = Step {
            idx,
            total,
            name: format!("{name}{retry}"),
            started: Instant::now(),
            bytes: 0,
            of: 0,
            message: None,
            last_line: Instant::now(),
        };
        let bar = self.terminal.then(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(spinner("{spinner} {prefix} {wide_msg} {elapsed}"));
            pb.set_prefix(step.head());
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = s.bar.take() {
            old.finish_and_clear();
        }
        s.step = Some(step);
        s.bar = bar;
    }

    fn message(&self, text: &str) {
        self.with_step(|step, bar| {
            step.message = Some(text.to_string());
            if let Some(pb) = bar {
                pb.set_message(text.to_string());
            }
        });
    }

    fn bytes(&self, done: u64, total: u64) {
        self.with_step(|step, bar| {
            step.bytes = step.bytes.max(done);
            step.of = total;
            if let Some(pb) = bar {
                if pb.length() != Some(total) {
                    pb.set_length(total);
                    pb.set_style(spinner(if total > 0 {
                        "{spinner} {prefix} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {wide_msg}"
                    } else {
                        "{spinner} {prefix} {bytes} {bytes_per_sec} {elapsed} {wide_msg}"
                    }));
                }
                pb.set_position(step.bytes);
            }
        });
    }

    fn step_finished(&self, _idx: u32, _name: &str, error: Option<&str>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (step, bar) = (s.step.take(), s.bar.take());
        drop(s);
        if let Some(pb) = bar {
            pb.finish_and_clear();
        }
        // A failure is said once, by the command's own error.
        if let (Some(step), None) = (step, error) {
            say(&self.out, &step.finished_line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn without_a_terminal_each_step_ends_in_a_line_with_its_bytes_and_rate() {
        let out = Shared::default();
        let p = Lines::new(Box::new(out.clone()), false);
        p.step_started(0, 2, "snapshot", 1);
        p.step_finished(0, "snapshot", None);
        p.step_started(1, 2, "copy", 1);
        p.bytes(10 << 20, 20 << 20);
        p.bytes(20 << 20, 20 << 20);
        // A later, smaller count (a second phase) does not shrink what was moved.
        p.bytes(0, 20 << 20);
        p.step_finished(1, "copy", None);
        p.step_started(1, 2, "copy", 2);
        p.step_finished(1, "copy", Some("host gone"));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("[1/2] snapshot done in "), "{text}");
        assert!(
            lines[1].starts_with("[2/2] copy done in ") && lines[1].contains(", 20.00 MiB at "),
            "{text}"
        );
    }

    #[test]
    fn a_long_step_says_it_still_runs_every_ten_seconds() {
        let out = Shared::default();
        let p = Lines::new(Box::new(out.clone()), false);
        p.step_started(0, 1, "replay", 1);
        p.message("replaying 000000010000000000000007");
        p.bytes(5 << 20, 0);
        // As if it had started eleven seconds ago.
        p.with_step(|s, _| {
            s.started -= Duration::from_secs(11);
            s.last_line -= Duration::from_secs(11);
        });
        std::thread::sleep(Duration::from_millis(600));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.starts_with("[1/1] replay running for 11 s, 5.00 MiB at ")
                && text.contains(": replaying 000000010000000000000007"),
            "{text}"
        );
    }
}
