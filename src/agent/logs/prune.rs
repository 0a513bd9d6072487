//! Dropping archived files no kept snapshot needs.

use super::{damage, dir, list_held, marks, sidecar, start_file, LogFile, LogFormat};
use crate::agent::layout::Layout;
use crate::wire::logs::{PruneSpec, SnapshotStart};
use anyhow::{Context, Result};

/// Removes the files before the oldest kept snapshot's start (`spec.keep`), or the whole
/// archive when nothing is kept; nothing with `keep_all`. Side files stay while anything is
/// kept: they are tiny and replay across branches needs them. Returns the names removed.
///
/// # Errors
/// A position is malformed, or a file cannot be removed.
pub fn prune(layout: &Layout, spec: &PruneSpec, format: &dyn LogFormat) -> Result<Vec<String>> {
    if spec.keep_all {
        return Ok(Vec::new());
    }
    let live = layout.meta_path(&spec.instance).exists();
    prune_keeping(layout, &spec.instance, spec.keep.iter(), format, live)
}

/// Removes the archived chain files none of `keeps` needs (each from its position on). With
/// no snapshot to keep, the chain goes; so do the directory, side files and switch records,
/// unless the instance still lives here (`live`): its server keeps archiving into that
/// directory, and the next timeline it takes must pass every one its histories name.
///
/// # Errors
/// A position is malformed, or a file cannot be removed.
pub fn prune_keeping<'a>(
    layout: &Layout,
    instance: &str,
    keeps: impl Iterator<Item = &'a SnapshotStart>,
    format: &dyn LogFormat,
    live: bool,
) -> Result<Vec<String>> {
    let d = dir(layout, instance);
    let (mut doomed, everything) = doomed(&list_held(layout, instance)?, keeps, format)?;
    if everything && !live {
        // Nothing is kept that these logs could serve: no directory left behind either.
        drop_all(layout, instance)?;
        return Ok(doomed);
    }
    if everything {
        doomed.retain(|name| format.file_order(name).is_some());
    }
    for name in &doomed {
        std::fs::remove_file(d.join(name)).with_context(|| format!("removing {name}"))?;
        let _ = std::fs::remove_file(sidecar(&d, name));
    }
    damage::forget_gone(&d);
    Ok(doomed)
}

/// Which of `files` none of `keeps` needs, and whether that is all of them: chain files
/// placed before the oldest kept start (compared by place in the log, across branches);
/// side files go only with the whole archive, when nothing is kept.
///
/// # Errors
/// A position is malformed.
pub fn doomed<'a>(
    files: &[LogFile],
    keeps: impl Iterator<Item = &'a SnapshotStart>,
    format: &dyn LogFormat,
) -> Result<(Vec<String>, bool)> {
    let mut keep: Option<String> = None;
    for s in keeps {
        let order = format
            .file_order(&start_file(format, s)?)
            .context("a chain file without a place in the log")?;
        if keep.as_ref().is_none_or(|k| order < *k) {
            keep = Some(order);
        }
    }
    let Some(keep) = keep else {
        return Ok((files.iter().map(|f| f.name.clone()).collect(), true));
    };
    Ok((
        files
            .iter()
            .filter(|f| format.file_order(&f.name).is_some_and(|o| o < keep))
            .map(|f| f.name.clone())
            .collect(),
        false,
    ))
}

/// Removes an instance's whole archive, its directory and switch records.
///
/// # Errors
/// The directory cannot be removed.
pub fn drop_all(layout: &Layout, instance: &str) -> Result<()> {
    let d = dir(layout, instance);
    if d.exists() {
        std::fs::remove_dir_all(&d).with_context(|| format!("removing {}", d.display()))?;
    }
    marks::drop_marks(layout, instance);
    damage::drop_record(&d);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{archive, put, Numbered};
    use super::*;

    #[test]
    fn prune_keeps_what_the_oldest_snapshot_needs() {
        let (_root, layout, d) = archive();
        for n in ["1.0003", "1.0004", "1.0005", "2.history", "1.0002p"] {
            let f = LogFile {
                name: n.into(),
                ..Default::default()
            };
            put(&d, &f, true);
        }
        let start = |p: &str| SnapshotStart {
            snapshot: "s".into(),
            position: p.into(),
            branch: 1,
        };
        let spec = |keep: Vec<SnapshotStart>, keep_all: bool| PruneSpec {
            instance: "db".into(),
            engine: "test".into(),
            keep,
            keep_snapshots: vec![],
            keep_all,
            given: None,
        };
        // Reckoned from records alone, the same files would go, and nothing is touched.
        let (would, all) = doomed(
            &list_held(&layout, "db").unwrap(),
            [start("450"), start("410")].iter(),
            &Numbered,
        )
        .unwrap();
        assert!(!all);
        assert_eq!(would.len(), 2);
        assert_eq!(list_held(&layout, "db").unwrap().len(), 5);
        // A snapshot still being taken keeps everything.
        assert!(prune(&layout, &spec(vec![], true), &Numbered)
            .unwrap()
            .is_empty());
        // The oldest of the kept snapshots decides.
        let keep = vec![start("450"), start("410")];
        let mut removed = prune(&layout, &spec(keep, false), &Numbered).unwrap();
        removed.sort();
        // A file with a place before the oldest start goes too (a partial file).
        assert_eq!(removed, ["1.0002p", "1.0003"]);
        let left: Vec<String> = list_held(&layout, "db")
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(left, ["1.0004", "1.0005", "2.history"]);
        // While the instance lives here, keeping nothing removes the chain but not the
        // directory its server archives into, nor the branch histories.
        let meta = layout.meta_path("db");
        std::fs::create_dir_all(meta.parent().unwrap()).unwrap();
        std::fs::write(&meta, "{}").unwrap();
        let mut removed = prune(&layout, &spec(vec![], false), &Numbered).unwrap();
        removed.sort();
        assert_eq!(removed, ["1.0004", "1.0005"]);
        assert!(d.is_dir());
        let left: Vec<String> = list_held(&layout, "db")
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(left, ["2.history"]);
        // Once it is gone, keeping nothing removes the whole archive, side files with it.
        std::fs::remove_file(&meta).unwrap();
        assert_eq!(
            prune(&layout, &spec(vec![], false), &Numbered)
                .unwrap()
                .len(),
            1
        );
        assert!(!d.exists());
    }
}
