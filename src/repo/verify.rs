//! Reading a repository back whole: every object's checksum (`restic check --read-data`), and
//! which backups and log shipments each damaged object breaks.

use super::Store;
use anyhow::Result;
use rustic_core::repofile::{NodeType, PackId};
use rustic_core::{CheckOptions, LsOptions};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A damaged or missing object, and the restic snapshots that need it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BadObject {
    /// Its path in the repository, e.g. `data/3f/3f9a...`.
    pub object: String,
    pub problem: String,
    /// The restic snapshots (backups, log shipments) that can no longer be restored whole.
    pub breaks: Vec<String>,
    /// The shipped log file it is, when it is one that does not match its record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file: Option<String>,
}

/// What reading everything back found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verified {
    pub snapshots: usize,
    pub bad: Vec<BadObject>,
    /// Findings that damage nothing restorable (an unreferenced pack from a backup cut off).
    pub warnings: Vec<String>,
}

/// Where a pack lives in the repository.
pub fn pack_path(id: &PackId) -> String {
    let hex = id.to_hex();
    format!("data/{}/{}", &hex[..2], hex.as_str())
}

/// The pack a finding is about, if it is about one. rustic does not export its findings'
/// type, only their text, which names a pack as `pack ID`, the id shortened to its first
/// hex digits: the full id is the one of `packs` it starts.
fn pack_of(text: &str, packs: &[PackId]) -> Option<PackId> {
    text.match_indices("pack ").find_map(|(i, m)| {
        let rest = &text[i + m.len()..];
        let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
        if hex.len() < 8 {
            return None;
        }
        let mut found = packs.iter().filter(|p| p.to_hex().starts_with(&hex));
        match (found.next(), found.next()) {
            (Some(p), None) => Some(*p),
            _ => None,
        }
    })
}

/// A finding in one line: what it is about and rustic's message.
fn one_line(text: &str) -> String {
    let head = text
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches(':');
    let msg = super::brief(&anyhow::anyhow!("{text}"));
    if msg.is_empty() || head.contains(&msg) {
        head.to_string()
    } else {
        format!("{} {msg}", head.trim_end_matches([' ', ':']))
    }
}

/// Reads every object back and checks it; names each bad one with what it breaks.
///
/// # Errors
/// The repository cannot be opened, or its index or snapshots cannot be read at all.
pub fn verify(store: &Store, key: &str) -> Result<Verified> {
    let repo = super::opened(store, key)?;
    let results = repo.check(CheckOptions::default().read_data(true))?;
    let packs: Vec<PackId> = repo.list::<PackId>()?.collect();
    let mut bad: BTreeMap<String, (Option<PackId>, String)> = BTreeMap::new();
    let mut warnings = Vec::new();
    for (level, e) in &results.0 {
        let text = one_line(&e.to_string());
        if format!("{level:?}") != "Error" {
            warnings.push(text);
            continue;
        }
        match pack_of(&text, &packs) {
            Some(id) => {
                bad.entry(pack_path(&id)).or_insert((Some(id), text));
            }
            None => {
                bad.entry(text.clone()).or_insert((None, text));
            }
        }
    }
    let snaps = repo.get_all_snapshots()?;
    // Shipped logs are checked once more against the records they were archived with: a
    // file damaged on its host before it was shipped is whole to restic but useless to
    // replay.
    let mut unmatched = Vec::new();
    for snap in snaps.iter().filter(|s| s.label == super::logs::LOGS_LABEL) {
        let id = snap.id.to_string();
        // A shipment whose objects are damaged is named by the check above already.
        let mut part = Vec::new();
        if super::dump(store, key, &id, &mut part, &mut |_| {}).is_err() {
            continue;
        }
        for f in super::logs::read_files(&part)? {
            if let Some(problem) = f.problem {
                let name = f.name;
                unmatched.push(BadObject {
                    object: format!("log file {name} in shipment {}", &id[..id.len().min(8)]),
                    problem: format!("{name} {problem}"),
                    breaks: vec![id.clone()],
                    log_file: Some(name),
                });
            }
        }
    }
    let mut out = Verified {
        snapshots: snaps.len(),
        bad: Vec::new(),
        warnings,
    };
    if bad.is_empty() {
        out.bad = unmatched;
        return Ok(out);
    }
    let damaged: BTreeSet<PackId> = bad.values().filter_map(|(id, _)| *id).collect();
    let repo = repo.to_indexed()?;
    let mut breaks: BTreeMap<PackId, Vec<String>> = BTreeMap::new();
    for snap in &snaps {
        let mut packs = BTreeSet::new();
        if let Ok(e) = repo.get_index_entry(&snap.tree) {
            packs.insert(e.pack);
        }
        if let Ok(root) = repo.node_from_snapshot_and_path(snap, "") {
            if let Ok(nodes) = repo.ls(&root, &LsOptions::default()) {
                for (_, node) in nodes.flatten() {
                    if let Some(t) = node.subtree {
                        packs.extend(repo.get_index_entry(&t).ok().map(|e| e.pack));
                    }
                    if node.node_type == NodeType::File {
                        for id in node.content.iter().flatten() {
                            packs.extend(repo.get_index_entry(id).ok().map(|e| e.pack));
                        }
                    }
                }
            }
        }
        for p in packs.intersection(&damaged) {
            breaks.entry(*p).or_default().push(snap.id.to_string());
        }
    }
    out.bad = bad
        .into_iter()
        .map(|(object, (id, problem))| BadObject {
            breaks: id.and_then(|p| breaks.get(&p).cloned()).unwrap_or_default(),
            object,
            problem,
            log_file: None,
        })
        .chain(unmatched)
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_names_its_pack_by_the_id_it_starts() {
        let id = "3f".repeat(32);
        let other = "3e".repeat(32);
        let packs: Vec<PackId> = [&id, &other]
            .iter()
            .map(|h| PackId::from(h.parse::<rustic_core::Id>().unwrap()))
            .collect();
        let p = pack_of("error checking pack 3f3f3f3f : MAC check failed", &packs).unwrap();
        assert_eq!(pack_path(&p), format!("data/3f/{id}"));
        assert!(pack_of("error checking trees", &packs).is_none());
        assert!(pack_of("pack 3f3f : short", &packs).is_none());
    }
}
