//! Log switches dbhost made itself: "every commit before T is in this file or an earlier
//! one", which commit times alone cannot say (a quiet database commits nothing).

use crate::agent::layout::Layout;
use anyhow::{Context, Result};

use std::path::PathBuf;

pub use crate::wire::logs::Mark;

/// Kept beside (not in) the instance's archive directory: that one belongs to the
/// database's OS user, and dbhost writes nothing as root where another user can plant links.
fn marks_path(layout: &Layout, instance: &str) -> PathBuf {
    layout.logs_root().join(format!(".{instance}.marks"))
}

/// The switches recorded for an instance.
pub fn marks(layout: &Layout, instance: &str) -> Vec<Mark> {
    std::fs::read_to_string(marks_path(layout, instance))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Records that `segment`, archived, holds every commit made before `before`.
///
/// # Errors
/// The record cannot be written.
pub fn add_mark(layout: &Layout, instance: &str, segment: &str, before: &str) -> Result<()> {
    let mut all = marks(layout, instance);
    all.push(Mark {
        segment: segment.into(),
        before: before.into(),
    });
    // One per file is enough: the latest time says the most.
    all.sort_by(|a, b| a.segment.cmp(&b.segment).then(a.before.cmp(&b.before)));
    all.dedup_by(|later, earlier| {
        later.segment == earlier.segment && {
            earlier.before = later.before.clone();
            true
        }
    });
    let p = marks_path(layout, instance);
    std::fs::create_dir_all(p.parent().context("marks path")?)?;
    crate::fsutil::write_atomic(&p, &serde_json::to_vec(&all)?, 0o600)
}

/// Forgets the switches of an archive that is gone.
pub(super) fn drop_marks(layout: &Layout, instance: &str) {
    let _ = std::fs::remove_file(marks_path(layout, instance));
}
