//! Work on many hosts at once: at most `width` at a time, each on a thread of its own, so a
//! slow or silent host holds up only its own thread (its calls have their own timeouts),
//! never the rest of the fleet.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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
}
