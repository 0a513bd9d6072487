//! What the monitor makes of one check, and what it does about a problem that outlasted its
//! failure budget: pure functions of what was observed, so every rule is a unit test.
//!
//! The rules, in the order they protect data:
//! - busy or slow is not gone: a full connection table is `degraded`, a server whose process
//!   runs but does not answer is left running, then at most restarted in place;
//! - a full disk is not a broken server: `degraded` until there is room, then started again;
//! - a rebuild to an older point than the old data holds needs data proven unreadable (its
//!   own server refuses it, or reads pages whose checksums fail); the replaced data is set
//!   aside either way, never deleted by the monitor.

use crate::wire::InstanceStatus;

/// What a failed check means.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The host does not answer.
    HostSilent(String),
    /// The server's process runs but the probe got no answer (what happened).
    Unanswered(String),
    /// The server is not running; its data is there.
    Down,
    /// The data directory is gone.
    DataMissing,
    /// The host does not know the instance at all.
    Gone,
    /// The server reads pages whose checksums fail: its data is damaged.
    Corrupted(u64),
}

impl Problem {
    pub fn describe(&self) -> String {
        match self {
            Problem::HostSilent(e) => format!("its host does not answer: {e}"),
            Problem::Unanswered(why) => {
                format!("its server runs but does not answer ({why})")
            }
            Problem::Down => "its server is not running".into(),
            Problem::DataMissing => "its data directory is gone".into(),
            Problem::Gone => "its host does not know it".into(),
            Problem::Corrupted(n) => {
                format!("its server read {n} pages whose checksums failed: its data is damaged")
            }
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Serving as it should.
    Healthy,
    /// Alive, but people should know (busy, a full disk, logs not reaching the archive):
    /// nothing is rebuilt for it.
    Degraded(String),
    /// Not serving, for a reason no rebuild would mend (its server stopped because the disk
    /// is full): `degraded`, and checked again.
    Waiting(String),
    /// Something is wrong with it.
    Problem(Problem),
}

/// What an instance's status says of it.
pub fn verdict(st: &InstanceStatus) -> Finding {
    let degraded = |d: String| Finding::Degraded(d);
    if !st.exists {
        return Finding::Problem(Problem::Gone);
    }
    if st.data_missing {
        return Finding::Problem(Problem::DataMissing);
    }
    if let Some(full) = &st.disk_full {
        return if st.running {
            degraded(format!(
                "the disk is full ({full}): it runs, but writes will fail until there is room"
            ))
        } else {
            Finding::Waiting(format!(
                "the disk is full ({full}): its server stopped for it and is started again once there is room"
            ))
        };
    }
    if !st.running {
        return Finding::Problem(Problem::Down);
    }
    if let Some(busy) = &st.busy {
        return degraded(format!(
            "its connection table is full ({busy}): busy, not broken, so nothing is done about it"
        ));
    }
    if !st.accepting {
        let why = st
            .unanswered
            .clone()
            .unwrap_or_else(|| "the probe got no answer".into());
        return Finding::Problem(Problem::Unanswered(why));
    }
    if st.checksum_failures > 0 {
        return Finding::Problem(Problem::Corrupted(st.checksum_failures));
    }
    if let Some(e) = &st.archive_error {
        return degraded(format!(
            "its logs are not reaching the archive ({e}): the restorable window has stopped growing"
        ));
    }
    Finding::Healthy
}

/// Where a rebuild goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RebuildTo {
    /// Every archived commit: nothing of the old data is readable or there at all.
    Latest,
    /// Just before the first error: the old data is damaged from then on.
    BeforeError,
}

/// What the monitor does about a problem that outlasted its failure budget.
#[derive(Debug, Clone, PartialEq)]
pub enum Remedy {
    /// Nothing yet (the reason, for people).
    Wait(String),
    /// Nothing until the disk has room (the reason): `degraded`, not failing.
    WaitForRoom(String),
    /// Start the server on its own data.
    Start,
    /// Stop the running server and start it again on its own data.
    RestartInPlace,
    /// Rebuild it from snapshots and logs (the old data set aside, never deleted).
    Rebuild(RebuildTo),
    /// Leave it to people (why).
    LeaveToPeople(String),
}

/// Where a problem stands before any remedy: whether it is the monitor's to act on yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Escalation {
    /// Left to people already: nothing more until it is healthy again.
    AlreadyLeft,
    /// Within its failure budget (or seen failing once): checked again before acting.
    CheckAgain,
    /// The monitor does nothing about it: people are told why.
    LeaveToPeople(String),
    /// Past its budget and the monitor's to mend: [`remedy`] says how.
    Act,
}

/// What has been seen of a problem so far, and the rules it falls under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    /// The instance was already left to people for this incident.
    pub left_to_people: bool,
    pub failing_for: f64,
    /// Checks that found it failing in this incident.
    pub failures: u32,
    pub budget_secs: f64,
    /// Its failure policy is to notify, never to act.
    pub notify_only: bool,
    /// Recoveries the monitor already tried in this incident, and how many it may.
    pub recoveries: u32,
    pub max_recoveries: u32,
}

/// Whether the monitor acts on a problem now: never twice once it left it to people, never
/// before the budget has passed and a second check agrees (one lost probe is not a death),
/// never against a policy of notifying, and not past its number of tries.
pub fn escalation(s: &Standing) -> Escalation {
    if s.left_to_people {
        return Escalation::AlreadyLeft;
    }
    if s.failing_for < s.budget_secs || s.failures < 2 {
        return Escalation::CheckAgain;
    }
    if s.notify_only {
        return Escalation::LeaveToPeople("its policy is to notify".into());
    }
    if s.recoveries >= s.max_recoveries {
        return Escalation::LeaveToPeople(format!(
            "{} recoveries did not bring it back, so it is left to people",
            s.recoveries
        ));
    }
    Escalation::Act
}

/// The remedy for `problem`, failing for `failing_for` seconds; `restart_after` is how long a
/// server that runs may go without answering before it is restarted in place.
pub fn remedy(problem: &Problem, failing_for: f64, restart_after: u64, name: &str) -> Remedy {
    match problem {
        Problem::HostSilent(_) => Remedy::LeaveToPeople(format!(
            "its server cannot be stopped from here, so it is not rebuilt elsewhere: once the host is known to be down, `dbctl recover {name} --host H`"
        )),
        // Its process runs on its data: whatever holds it up (a full table, a long
        // checkpoint, a stall), a rebuild would lose what only that data holds.
        Problem::Unanswered(_) if failing_for < restart_after as f64 => Remedy::Wait(format!(
            "its process runs, so it is left running (busy or slow is not gone); restarted in place if it still does not answer after {restart_after} s"
        )),
        Problem::Unanswered(_) => Remedy::RestartInPlace,
        // Intact data: a start is crash recovery, seconds, and loses nothing.
        Problem::Down => Remedy::Start,
        // Its own server reads damaged pages: the data is proven bad from the first error.
        Problem::Corrupted(_) => Remedy::Rebuild(RebuildTo::BeforeError),
        // Nothing is left on the host to lose: the latest archived point is all there is.
        Problem::DataMissing | Problem::Gone => Remedy::Rebuild(RebuildTo::Latest),
    }
}

/// The remedy once a start on the server's own data failed, given what its host says now
/// (None: it did not say) and what the start said.
pub fn after_failed_start(now: Option<&InstanceStatus>, start_error: &str) -> Remedy {
    let enospc = start_error.contains("No space left on device");
    match now {
        Some(st) if st.disk_full.is_some() || enospc => Remedy::WaitForRoom(format!(
            "it cannot start for want of disk ({}): it is started again once there is room",
            st.disk_full.as_deref().unwrap_or("no space left on device")
        )),
        None if enospc => Remedy::WaitForRoom(
            "it cannot start for want of disk: it is started again once there is room".into(),
        ),
        // It runs after all (started by someone else meanwhile): nothing to rebuild.
        Some(st) if st.running => Remedy::Wait("its server runs again".into()),
        None => Remedy::LeaveToPeople(format!(
            "its host did not say why the start failed ({start_error})"
        )),
        // Its own server refuses its data: proven unreadable, so rebuilt from before the
        // trouble began (the refused data is set aside for people).
        Some(_) if refused_by_its_data(start_error) => Remedy::Rebuild(RebuildTo::BeforeError),
        // A port taken, a setting refused, memory short: nothing says the data is bad, and a
        // rebuild to an older point would lose what only that data holds.
        Some(_) => Remedy::LeaveToPeople(format!(
            "its server did not start ({start_error}) and nothing it said points at its data, so it is not rebuilt: mend the cause and `dbctl start`, or `dbctl recover` it"
        )),
    }
}

/// What a server says at start when it cannot read its own data (its control file, its
/// checkpoint, its pages), as opposed to its surroundings (ports, settings, memory).
const DATA_REFUSED: &[&str] = &[
    // PostgreSQL
    "incorrect checksum in control file",
    "could not open file \"global/pg_control\"",
    "could not read file \"global/pg_control\"",
    "database files are incompatible with server",
    "could not locate a valid checkpoint record",
    "invalid checkpoint record",
    "invalid primary checkpoint record",
    "could not find redo location",
    "invalid resource manager id",
    "incorrect resource manager data checksum",
    "invalid magic number",
    "invalid page in block",
    "page verification failed",
    "could not read block",
    "missing contrecord",
    // MariaDB (InnoDB)
    "corrupt",
    "checksum mismatch",
    "missing file_checkpoint",
    "is in the future",
    "your database may be corrupt",
];

/// Whether a failed start's words prove the data unreadable.
pub fn refused_by_its_data(start_error: &str) -> bool {
    let said = start_error.to_lowercase();
    DATA_REFUSED.iter().any(|p| said.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing() -> Standing {
        Standing {
            left_to_people: false,
            failing_for: 30.0,
            failures: 3,
            budget_secs: 20.0,
            notify_only: false,
            recoveries: 0,
            max_recoveries: 2,
        }
    }

    #[test]
    fn a_problem_is_acted_on_only_past_its_budget_and_a_second_check() {
        assert_eq!(escalation(&standing()), Escalation::Act);
        let early = Standing {
            failing_for: 19.0,
            ..standing()
        };
        assert_eq!(escalation(&early), Escalation::CheckAgain);
        // One failed probe, however long ago the incident began, is not yet a verdict.
        let once = Standing {
            failures: 1,
            failing_for: 1e6,
            ..standing()
        };
        assert_eq!(escalation(&once), Escalation::CheckAgain);
    }

    #[test]
    fn a_silent_host_is_left_to_people_never_rebuilt_elsewhere() {
        for t in [0.0, 30.0, 1e6] {
            assert!(matches!(
                remedy(&Problem::HostSilent("no answer in 5 s".into()), t, 300, "db"),
                Remedy::LeaveToPeople(w) if w.contains("--host")
            ));
        }
    }

    #[test]
    fn a_server_down_on_intact_data_is_started_not_rebuilt() {
        let down = InstanceStatus {
            running: false,
            accepting: false,
            ..running()
        };
        assert_eq!(verdict(&down), Finding::Problem(Problem::Down));
        for t in [0.0, 1e6] {
            assert_eq!(remedy(&Problem::Down, t, 300, "db"), Remedy::Start);
        }
    }

    #[test]
    fn logs_that_do_not_reach_the_archive_are_degraded_never_a_problem() {
        let st = InstanceStatus {
            archive_error: Some("archive command failed with exit code 1".into()),
            ..running()
        };
        match verdict(&st) {
            Finding::Degraded(d) => assert!(d.contains("not reaching the archive"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_instance_left_to_people_is_never_acted_on_twice() {
        let left = Standing {
            left_to_people: true,
            failing_for: 1e6,
            ..standing()
        };
        assert_eq!(escalation(&left), Escalation::AlreadyLeft);
    }

    #[test]
    fn a_policy_of_notifying_and_a_spent_number_of_tries_leave_it_to_people() {
        let notify = Standing {
            notify_only: true,
            ..standing()
        };
        assert!(
            matches!(escalation(&notify), Escalation::LeaveToPeople(w) if w.contains("notify"))
        );
        let spent = Standing {
            recoveries: 2,
            ..standing()
        };
        assert!(
            matches!(escalation(&spent), Escalation::LeaveToPeople(w) if w.contains("2 recoveries"))
        );
        let one_left = Standing {
            recoveries: 1,
            ..standing()
        };
        assert_eq!(escalation(&one_left), Escalation::Act);
    }

    fn running() -> InstanceStatus {
        InstanceStatus {
            instance: "db".into(),
            exists: true,
            running: true,
            accepting: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_full_connection_table_is_degraded_never_a_problem() {
        let st = InstanceStatus {
            accepting: false,
            busy: Some("sorry, too many clients already".into()),
            ..running()
        };
        match verdict(&st) {
            Finding::Degraded(d) => assert!(d.contains("busy, not broken"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stalled_server_waits_then_is_restarted_in_place_never_rebuilt() {
        let st = InstanceStatus {
            accepting: false,
            unanswered: Some("no answer within 5 s".into()),
            ..running()
        };
        let Finding::Problem(p) = verdict(&st) else {
            panic!("no problem")
        };
        assert_eq!(p, Problem::Unanswered("no answer within 5 s".into()));
        assert!(matches!(remedy(&p, 60.0, 300, "db"), Remedy::Wait(_)));
        assert!(matches!(remedy(&p, 299.0, 300, "db"), Remedy::Wait(_)));
        assert_eq!(remedy(&p, 301.0, 300, "db"), Remedy::RestartInPlace);
        for t in [0.0, 1e6] {
            assert!(!matches!(remedy(&p, t, 300, "db"), Remedy::Rebuild(_)));
        }
    }

    #[test]
    fn a_full_disk_is_degraded_whether_or_not_the_server_runs() {
        for running_now in [true, false] {
            let st = InstanceStatus {
                running: running_now,
                accepting: running_now,
                disk_full: Some("the filesystem holding its data has 3 MiB free".into()),
                ..running()
            };
            let d = match verdict(&st) {
                Finding::Degraded(d) if running_now => d,
                Finding::Waiting(d) if !running_now => d,
                other => panic!("{other:?}"),
            };
            assert!(d.contains("disk is full"), "{d}");
        }
        // Room again, still down: started on its own data.
        let down = InstanceStatus {
            running: false,
            accepting: false,
            ..running()
        };
        assert_eq!(verdict(&down), Finding::Problem(Problem::Down));
        assert_eq!(remedy(&Problem::Down, 100.0, 300, "db"), Remedy::Start);
    }

    #[test]
    fn a_start_that_fails_for_want_of_disk_waits_and_one_refused_by_its_data_rebuilds() {
        let full = InstanceStatus {
            running: false,
            accepting: false,
            disk_full: Some("0 MiB free".into()),
            ..running()
        };
        assert!(matches!(
            after_failed_start(Some(&full), "pg_ctl: could not start server"),
            Remedy::WaitForRoom(_)
        ));
        let refused = InstanceStatus {
            running: false,
            accepting: false,
            ..running()
        };
        assert!(matches!(
            after_failed_start(
                Some(&refused),
                "PANIC: could not write to file \"pg_wal/xlogtemp\": No space left on device"
            ),
            Remedy::WaitForRoom(_)
        ));
        assert_eq!(
            after_failed_start(Some(&refused), "PANIC: incorrect checksum in control file"),
            Remedy::Rebuild(RebuildTo::BeforeError)
        );
        assert!(matches!(
            after_failed_start(None, "timed out"),
            Remedy::LeaveToPeople(_)
        ));
        // Its surroundings, not its data: a person's work, never a rebuild.
        for elsewhere in [
            "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use | FATAL:  could not create any TCP/IP sockets",
            "FATAL:  could not map anonymous shared memory: Cannot allocate memory",
            "FATAL:  invalid value for parameter \"shared_buffers\": \"lots\"",
            "[ERROR] Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use",
        ] {
            assert!(
                matches!(after_failed_start(Some(&refused), elsewhere), Remedy::LeaveToPeople(w) if w.contains("not rebuilt")),
                "{elsewhere}"
            );
        }
        for damaged in [
            "PANIC:  could not locate a valid checkpoint record",
            "[ERROR] InnoDB: Database page corruption on disk or a failed file read of [page id: space=0, page number=3]",
            "[ERROR] InnoDB: Missing FILE_CHECKPOINT at 1234 between the checkpoint 99 and the end 5678.",
        ] {
            assert_eq!(
                after_failed_start(Some(&refused), damaged),
                Remedy::Rebuild(RebuildTo::BeforeError),
                "{damaged}"
            );
        }
        assert!(matches!(
            after_failed_start(Some(&running()), "already running"),
            Remedy::Wait(_)
        ));
    }

    #[test]
    fn only_data_proven_bad_or_gone_is_rebuilt() {
        assert_eq!(
            remedy(&Problem::Corrupted(3), 30.0, 300, "db"),
            Remedy::Rebuild(RebuildTo::BeforeError)
        );
        assert_eq!(
            remedy(&Problem::DataMissing, 30.0, 300, "db"),
            Remedy::Rebuild(RebuildTo::Latest)
        );
        assert_eq!(
            remedy(&Problem::Gone, 30.0, 300, "db"),
            Remedy::Rebuild(RebuildTo::Latest)
        );
        assert!(matches!(
            remedy(&Problem::HostSilent("timeout".into()), 1e6, 300, "db"),
            Remedy::LeaveToPeople(w) if w.contains("recover db --host")
        ));
    }

    #[test]
    fn verdicts_follow_the_status() {
        assert_eq!(verdict(&running()), Finding::Healthy);
        let gone = InstanceStatus {
            exists: false,
            ..running()
        };
        assert_eq!(verdict(&gone), Finding::Problem(Problem::Gone));
        let missing = InstanceStatus {
            data_missing: true,
            running: false,
            ..running()
        };
        assert_eq!(verdict(&missing), Finding::Problem(Problem::DataMissing));
        let damaged = InstanceStatus {
            checksum_failures: 2,
            ..running()
        };
        assert_eq!(verdict(&damaged), Finding::Problem(Problem::Corrupted(2)));
        let unarchived = InstanceStatus {
            archive_error: Some("archiving x failed".into()),
            ..running()
        };
        assert!(matches!(verdict(&unarchived), Finding::Degraded(_)));
    }
}
