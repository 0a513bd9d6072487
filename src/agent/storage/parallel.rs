//! Work spread over the machine's cores: a bounded number of threads, the first error kept.
//! A leaf: it uses nothing else of dbhost.

use anyhow::Result;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `work` on every item on up to four threads (copies of many files overlap their
/// reads, hashing and writes); the first error stops the rest and is returned.
///
/// # Errors
/// The first error `work` returned.
pub fn in_parallel<T: Sync>(items: &[T], work: impl Fn(&T) -> Result<()> + Sync) -> Result<()> {
    in_parallel_on(cores().clamp(1, 4), items, work)
}

/// The host's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// [`in_parallel`] on `threads` threads.
///
/// # Errors
/// The first error `work` returned.
pub fn in_parallel_on<T: Sync>(
    threads: usize,
    items: &[T],
    work: impl Fn(&T) -> Result<()> + Sync,
) -> Result<()> {
    let threads = threads.max(1);
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                if lock(&failure).is_some() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if let Err(e) = work(item) {
                    lock(&failure).get_or_insert(e);
                    break;
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A lock whose holder panicked still guards what it held.
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
