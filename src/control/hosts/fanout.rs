//! Work on many hosts at once: at most `width` at a time, each on a thread of its own, so a
//! slow or silent host holds up only its own thread (its calls have their own timeouts),
//! never the rest of the fleet.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// `f` of every item, `width` at a time; the results in the items' order.
pub fn each<T: Sync, R: Send>(items: &[T], width: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..width.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { return };
                let r = f(item);
                if let Ok(mut o) = out.lock() {
                    o[i] = Some(r);
                }
            });
        }
    });
    out.into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Keys of the work [`within`] gave up waiting for and that still runs: the next round does
/// not start a second call to a host that has not answered the last one.
static STILL_RUNNING: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();

fn still_running() -> &'static Mutex<HashSet<String>> {
    STILL_RUNNING.get_or_init(|| Mutex::new(HashSet::new()))
}

/// What became of one item of [`within`].
#[derive(Debug, PartialEq)]
pub enum Outcome<R> {
    Done(R),
    /// No answer within the deadline; the work goes on by itself.
    Late,
    /// Not started: the work of an earlier round for the same key still runs.
    StillBusy,
}

/// `f` of every item, `width` at a time, waiting at most `deadline` for all of them: work
/// not done by then is left to finish on its own thread (its result dropped), and an item
/// whose `key` still has such work is not started again until it ends. A round over a fleet
/// thus takes at most `deadline` whatever a silent host does, and never piles up calls on it.
pub fn within<T, R>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    width: usize,
    deadline: Duration,
    f: impl Fn(&T) -> R + Send + Sync + 'static,
) -> Vec<Outcome<R>>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let started = Instant::now();
    let n = items.len();
    let mut out: Vec<Outcome<R>> = (0..n).map(|_| Outcome::StillBusy).collect();
    let mut queue = VecDeque::new();
    {
        let mut busy = still_running().lock().unwrap_or_else(|p| p.into_inner());
        for (i, item) in items.into_iter().enumerate() {
            let k = key(&item);
            if busy.insert(k.clone()) {
                queue.push_back((i, k, item));
                out[i] = Outcome::Late;
            }
        }
    }
    let pending = queue.len();
    let queue = Arc::new(Mutex::new(queue));
    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    for _ in 0..width.clamp(1, pending.max(1)) {
        let (queue, f, tx) = (queue.clone(), f.clone(), tx.clone());
        std::thread::spawn(move || loop {
            // Past the deadline nothing new is started: what is left stays Late.
            let next = queue.lock().ok().and_then(|mut q| {
                if started.elapsed() >= deadline {
                    q.clear();
                }
                q.pop_front()
            });
            let Some((i, k, item)) = next else { return };
            let r = f(&item);
            if let Ok(mut busy) = still_running().lock() {
                busy.remove(&k);
            }
            if tx.send((i, r)).is_err() {
                // The round has ended without this one; later items are not started.
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
            }
        });
    }
    drop(tx);
    let mut left = pending;
    while left > 0 {
        let Some(wait) = deadline.checked_sub(started.elapsed()) else {
            break;
        };
        match rx.recv_timeout(wait) {
            Ok((i, r)) => {
                out[i] = Outcome::Done(r);
                left -= 1;
            }
            Err(_) => break,
        }
    }
    // Items never started hold their key no longer.
    if let Ok(mut q) = queue.lock() {
        if let Ok(mut busy) = still_running().lock() {
            for (_, k, _) in q.drain(..) {
                busy.remove(&k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_in_order_and_a_slow_one_holds_up_only_itself() {
        let items: Vec<u64> = (0..40).collect();
        let started = std::time::Instant::now();
        let out = each(&items, 8, |i| {
            if *i == 3 {
                std::thread::sleep(std::time::Duration::from_millis(400));
            }
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        // The slow item's 400 ms was spent beside the others, not before them.
        assert!(started.elapsed() < std::time::Duration::from_millis(1500));
        assert!(each(&Vec::<u64>::new(), 8, |i| *i).is_empty());
    }

    #[test]
    fn a_silent_item_is_late_and_not_started_twice() {
        let items: Vec<u64> = (0..20).collect();
        let key = |i: &u64| format!("fanout-test:{i}");
        let started = Instant::now();
        let out = within(items.clone(), key, 4, Duration::from_millis(500), |i| {
            if *i == 7 {
                std::thread::sleep(Duration::from_millis(1500));
            }
            i * 2
        });
        // The round ended at its deadline, not when the silent item did.
        assert!(started.elapsed() < Duration::from_millis(1200));
        assert_eq!(out[7], Outcome::Late);
        assert_eq!(out[3], Outcome::Done(6));
        assert_eq!(
            out.iter().filter(|o| matches!(o, Outcome::Done(_))).count(),
            19
        );
        // The next round does not call the one still running; once it ends, it is asked again.
        let again = within(items.clone(), key, 4, Duration::from_millis(500), |i| *i);
        assert_eq!(again[7], Outcome::StillBusy);
        assert_eq!(again[8], Outcome::Done(8));
        std::thread::sleep(Duration::from_millis(1200));
        let later = within(items, key, 4, Duration::from_millis(500), |i| *i);
        assert_eq!(later[7], Outcome::Done(7));
    }
}
