//! Data a recovery or an in-place restore replaced: never deleted as part of the work that
//! replaced it, but set aside under `<root>/replaced/<instance>.<UTC time>/` (0700, root's:
//! the files keep their owner, and no instance's OS user can reach them, even one that is
//! later given the freed user id), with `replaced.json` saying whose it was, when and why. Only
//! `ReplacedRemove` deletes it: a person (`dbctl host prune`) or the control plane's
//! retention.

use crate::agent::layout::Layout;
use crate::agent::storage::Storage;
use crate::wire::ReplacedData;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const RECORD: &str = "replaced.json";

/// Moves `dir` (an instance's directory, or a data directory) aside as replaced data of
/// `instance`, keeping its record; returns the entry's name. A `dir` that is not there sets
/// nothing aside (a re-sent step whose first run did it).
///
/// # Errors
/// The directory cannot be made or renamed.
pub fn set_aside(
    layout: &Layout,
    dir: &Path,
    instance: &str,
    engine: &str,
    reason: &str,
    data_only: bool,
) -> Result<Option<String>> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(None);
    }
    let top = layout.replaced();
    std::fs::create_dir_all(&top).with_context(|| format!("making {}", top.display()))?;
    std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o700))?;
    std::os::unix::fs::lchown(&top, Some(0), Some(0)).ok();
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let mut name = format!("{instance}.{stamp}");
    let mut n = 1;
    while std::fs::symlink_metadata(top.join(&name)).is_ok() {
        n += 1;
        name = format!("{instance}.{stamp}.{n}");
    }
    let entry = top.join(&name);
    let staging = top.join(format!(".{name}.partial"));
    std::fs::create_dir(&staging).with_context(|| format!("making {}", staging.display()))?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))?;
    let record = ReplacedData {
        name: name.clone(),
        instance: instance.into(),
        engine: engine.into(),
        replaced_at: now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        reason: reason.into(),
        bytes: 0,
    };
    std::fs::write(staging.join(RECORD), serde_json::to_vec_pretty(&record)?)?;
    // The data moves last, in one rename within the root's filesystem: it is either still
    // where it was or inside the entry, never half-moved.
    let inside = if data_only {
        staging.join("data")
    } else {
        staging.join("instance")
    };
    std::fs::rename(dir, &inside).with_context(|| format!("setting {} aside", dir.display()))?;
    std::fs::rename(&staging, &entry)?;
    crate::agent::storage::durable::sync_path(&top).ok();
    Ok(Some(name))
}

/// Everything set aside here, oldest first, each with the bytes it takes.
pub fn list(layout: &Layout) -> Vec<ReplacedData> {
    let Ok(entries) = std::fs::read_dir(layout.replaced()) else {
        return Vec::new();
    };
    let mut out: Vec<ReplacedData> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path().join(RECORD)).ok()?;
            let mut r: ReplacedData = serde_json::from_str(&text).ok()?;
            r.name = e.file_name().to_string_lossy().into_owned();
            r.bytes = crate::agent::usage::bytes_of(&e.path());
            Some(r)
        })
        .collect();
    out.sort_by(|a, b| a.replaced_at.cmp(&b.replaced_at).then(a.name.cmp(&b.name)));
    out
}

/// Removes the named entries; returns the names removed. A name not there is passed over (a
/// re-sent request); one that is no plain entry name is refused.
///
/// # Errors
/// A name with a path in it, or an entry that cannot be removed.
pub fn remove(layout: &Layout, storage: &dyn Storage, names: &[String]) -> Result<Vec<String>> {
    let top = layout.replaced();
    let mut removed = Vec::new();
    for name in names {
        if name.is_empty()
            || name.starts_with('.')
            || name.contains('/')
            || name.contains('\0')
            || name.len() > 200
        {
            bail!("{name:?} is not the name of set-aside data");
        }
        let entry = top.join(name);
        match std::fs::symlink_metadata(&entry) {
            Ok(m) if m.is_dir() => {
                storage.remove_tree(&entry)?;
                removed.push(name.clone());
            }
            Ok(_) => bail!("{name:?} is not the name of set-aside data"),
            Err(_) => {}
        }
    }
    crate::agent::storage::durable::sync_path(&top).ok();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_aside_data_is_listed_private_and_removed_only_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path());
        let dir = tmp.path().join("instances").join("db-1");
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data").join("PG_VERSION"), "15\n").unwrap();
        let name = set_aside(&layout, &dir, "db-1", "postgres", "recovered", false)
            .unwrap()
            .unwrap();
        assert!(!dir.exists());
        let mode = std::fs::metadata(layout.replaced())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let listed = list(&layout);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, name);
        assert_eq!(listed[0].instance, "db-1");
        assert_eq!(listed[0].reason, "recovered");
        assert!(layout
            .replaced()
            .join(&name)
            .join("instance/data/PG_VERSION")
            .exists());
        // Again: nothing there to set aside.
        assert!(set_aside(&layout, &dir, "db-1", "postgres", "again", false)
            .unwrap()
            .is_none());
        let plain = crate::agent::storage::plain::Plain;
        for bad in ["../instances", ".x", "a/b", ""] {
            assert!(
                remove(&layout, &plain, &[bad.to_string()]).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            remove(&layout, &plain, &[name.clone(), "nothing-here".into()]).unwrap(),
            vec![name]
        );
        assert!(list(&layout).is_empty());
    }
}
