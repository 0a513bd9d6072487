//! Placement: which host gets a new instance, from stored facts and what is already placed.

use crate::catalog::hosts::HostRow;
use crate::catalog::instances::InstanceRow;
use crate::control::base::config::Placement;

/// What a new instance needs from a host.
#[derive(Debug, Clone)]
pub struct Need {
    pub engine: String,
    pub cpus: f64,
    pub memory_mb: u64,
    pub storage_gb: u64,
}

/// Why `host` cannot take `need`, or None when it can.
pub fn misfit(
    host: &HostRow,
    placed: &[InstanceRow],
    need: &Need,
    rules: &Placement,
) -> Option<String> {
    let f = &host.facts;
    if !f.engines.iter().any(|e| e.name == need.engine) {
        let has: Vec<String> = f
            .engines
            .iter()
            .map(|e| format!("{} {}", e.name, e.version))
            .collect();
        return Some(format!(
            "{} is not installed; it has {}",
            need.engine,
            if has.is_empty() {
                "no engine".to_string()
            } else {
                has.join(", ")
            }
        ));
    }
    let used_cpus: f64 = placed.iter().map(|i| i.cpus).sum();
    let used_mem: u64 = placed.iter().map(|i| i.memory_mb).sum();
    let used_disk: u64 = placed.iter().map(|i| i.storage_gb).sum();
    let cpu_cap = f64::from(f.cpus) * rules.cpu_overcommit;
    let mem_cap = (f.memory_mb as f64 * rules.memory_overcommit) as u64;
    if used_cpus + need.cpus > cpu_cap {
        return Some(format!(
            "{:.1} of {cpu_cap:.1} cpus free, {} needed",
            (cpu_cap - used_cpus).max(0.0),
            need.cpus
        ));
    }
    if used_mem + need.memory_mb > mem_cap {
        return Some(format!(
            "{} of {mem_cap} MiB memory free, {} needed",
            mem_cap.saturating_sub(used_mem),
            need.memory_mb
        ));
    }
    if used_disk + need.storage_gb > f.disk_free_gb {
        return Some(format!(
            "{} of {} GiB storage free, {} needed",
            f.disk_free_gb.saturating_sub(used_disk),
            f.disk_free_gb,
            need.storage_gb
        ));
    }
    None
}

/// The host with the most free memory among those that fit, or every host's reason.
pub fn choose<'a>(
    hosts: &'a [(HostRow, Vec<InstanceRow>)],
    need: &Need,
    rules: &Placement,
) -> Result<&'a HostRow, Vec<String>> {
    let mut reasons = Vec::new();
    let mut best: Option<(&HostRow, i64)> = None;
    for (h, placed) in hosts {
        match misfit(h, placed, need, rules) {
            Some(r) => reasons.push(format!("{}: {r}", h.name)),
            None => {
                let free = h.facts.memory_mb as i64
                    - placed.iter().map(|i| i.memory_mb as i64).sum::<i64>();
                if best.is_none_or(|(_, f)| free > f) {
                    best = Some((h, free));
                }
            }
        }
    }
    best.map(|(h, _)| h).ok_or(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, mem: u64, engines: &[&str]) -> HostRow {
        crate::catalog::hosts::testing::host(name, mem, engines)
    }

    fn need(mem: u64) -> Need {
        Need {
            engine: "postgres".into(),
            cpus: 1.0,
            memory_mb: mem,
            storage_gb: 10,
        }
    }

    #[test]
    fn picks_the_roomiest_host_with_the_engine() {
        let hosts = vec![
            (host("a", 4096, &["postgres"]), vec![]),
            (host("b", 8192, &["postgres"]), vec![]),
            (host("c", 65536, &["mariadb"]), vec![]),
        ];
        let h = choose(&hosts, &need(1024), &Placement::default()).unwrap();
        assert_eq!(h.name, "b");
    }

    #[test]
    fn explains_why_nothing_fits() {
        let hosts = vec![
            (host("a", 1024, &["postgres"]), vec![]),
            (host("c", 65536, &["mariadb"]), vec![]),
        ];
        let why = choose(&hosts, &need(4096), &Placement::default()).unwrap_err();
        assert!(why[0].contains("MiB memory free"), "{why:?}");
        assert!(why[1].contains("postgres is not installed"), "{why:?}");
    }
}
