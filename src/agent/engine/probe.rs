//! A server's liveness probe run with a deadline: a stalled server (a stopped process, a
//! connection that hangs in its startup) must read as "runs but does not answer" within a
//! few seconds, well before the control plane's own wait for the host ends and it would take
//! the whole host for silent.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a probe may take before the server counts as not answering.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(5);

/// What a probe came to.
#[derive(Debug)]
pub enum Probed {
    /// It ended, with what it printed.
    Ended(Output),
    /// It did not end within the deadline and was killed.
    TimedOut,
}

/// Runs `cmd` (stdout and stderr are captured, `input` goes to its stdin) for at most
/// `deadline`, killing it after that.
///
/// # Errors
/// The program cannot be started.
pub fn run_within(
    cmd: &mut Command,
    input: Option<&[u8]>,
    deadline: Duration,
) -> std::io::Result<Probed> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn()?;
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        // Small statements: the pipe takes them without the server reading.
        let _ = stdin.write_all(data);
    }
    // Read both pipes on threads of their own, so a chatty probe never blocks on a full pipe.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = child.stdout.take().map(|s| drain(Box::new(s)));
    let err = child.stderr.take().map(|s| drain(Box::new(s)));
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    let (stdout, stderr) = (collect(out), collect(err));
    Ok(match status {
        Some(status) => Probed::Ended(Output {
            status,
            stdout,
            stderr,
        }),
        None => Probed::TimedOut,
    })
}

/// Whether what a server said on refusing a session means that its connection table is full
/// (PostgreSQL: "sorry, too many clients already", "remaining connection slots are reserved";
/// MariaDB: "Too many connections", error 1040): it is alive and busy, not gone.
pub fn says_full(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("too many clients")
        || t.contains("too many connections")
        || t.contains("remaining connection slots are reserved")
        || t.contains("error 1040")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_that_hangs_is_killed_at_its_deadline() {
        let start = Instant::now();
        let r = run_within(
            Command::new("sleep").arg("30"),
            None,
            Duration::from_millis(300),
        )
        .unwrap();
        assert!(matches!(r, Probed::TimedOut));
        assert!(start.elapsed() < Duration::from_secs(5));
        let r = run_within(Command::new("cat").arg("-"), Some(b"hi"), PROBE_DEADLINE).unwrap();
        match r {
            Probed::Ended(o) => assert_eq!(o.stdout, b"hi"),
            Probed::TimedOut => panic!("cat timed out"),
        }
    }

    #[test]
    fn full_connection_tables_are_told_apart_from_other_refusals() {
        assert!(says_full(
            "psql: error: FATAL:  sorry, too many clients already"
        ));
        assert!(says_full(
            "FATAL:  remaining connection slots are reserved for non-replication superuser connections"
        ));
        assert!(says_full("ERROR 1040 (HY000): Too many connections"));
        assert!(!says_full(
            "could not connect to server: No such file or directory"
        ));
        assert!(!says_full("FATAL:  the database system is starting up"));
    }
}
