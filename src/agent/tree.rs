//! Walking a directory tree as dbhost must, as root: directories descended, links never
//! followed, entries in a stable order. A leaf: it uses nothing else of dbhost.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Every regular file under `dir`, as sorted relative paths.
///
/// # Errors
/// A directory cannot be read.
pub fn files_under(dir: &Path) -> Result<Vec<String>> {
    Ok(entries_under(dir, &|ft| ft.is_file())?
        .into_iter()
        .map(|(rel, _)| rel)
        .collect())
}

/// Every entry under `dir` (directories descended, links never followed) whose type `keep`
/// accepts, as (relative path, path), sorted.
///
/// # Errors
/// A directory cannot be read.
pub fn entries_under(
    dir: &Path,
    keep: &dyn Fn(&std::fs::FileType) -> bool,
) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let e = e?;
            let ft = e.file_type()?;
            if ft.is_dir() {
                stack.push(e.path());
            } else if keep(&ft) {
                let rel = e.path().strip_prefix(dir)?.to_string_lossy().into_owned();
                out.push((rel, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}
