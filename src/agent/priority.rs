//! Scheduling priority for work that runs beside live servers (a snapshot's copy): the
//! lowest CPU priority and best-effort I/O at its lowest level, so a busy source keeps most
//! of its throughput. Each dbhost process serves one request, so the setting ends with it.

/// The I/O scheduling class and level (ioprio_set(2)): best effort, lowest of its 8 levels.
const IOPRIO_CLASS_BE: i32 = 2;
const IOPRIO_CLASS_SHIFT: i32 = 13;
const LOWEST_LEVEL: i32 = 7;
const IOPRIO_WHO_PROCESS: i32 = 1;

/// Lowers the calling thread's CPU and I/O priority; threads and processes it starts after
/// inherit them. Best effort: a kernel that does not allow it leaves them as they were.
pub fn yield_to_servers() {
    // SAFETY: plain system calls on this process, with constant arguments.
    unsafe {
        nix::libc::setpriority(nix::libc::PRIO_PROCESS, 0, 19);
        nix::libc::syscall(
            nix::libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0,
            (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | LOWEST_LEVEL,
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowers_the_callers_priority() {
        // On a thread of its own (Linux keeps a nice value per thread), so the test runner
        // keeps its priority.
        std::thread::spawn(|| {
            super::yield_to_servers();
            // SAFETY: reads this thread's own priority.
            let nice = unsafe { nix::libc::getpriority(nix::libc::PRIO_PROCESS, 0) };
            assert_eq!(nice, 19);
        })
        .join()
        .unwrap();
    }
}
