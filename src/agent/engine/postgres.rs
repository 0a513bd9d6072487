//! The PostgreSQL engine: initdb, configuration sized from the class, pg_ctl, psql probes.

use super::{Engine, HostCtx, Liveness};
use crate::agent::config::HostConfig;
use crate::agent::layout::InstanceMeta;
use crate::agent::osuser::{run_checked, tail};
use crate::wire::{EngineFact, ProvisionSpec, Size};
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub struct Postgres;

/// The instance's settings file, included from postgresql.conf.
const CONF_FILE: &str = "dbctl.conf";

impl Postgres {
    fn bin_dir(cfg: &HostConfig) -> Option<PathBuf> {
        let complete = |d: &Path| {
            ["postgres", "initdb", "pg_ctl", "psql"]
                .iter()
                .all(|b| d.join(b).exists())
        };
        if let Some(d) = &cfg.postgres_bin_dir {
            return complete(d).then(|| d.clone());
        }
        // PATH first (a symlink such as /usr/local/bin/pg_ctl resolves to its real directory),
        // then the newest of Debian's versioned directories.
        let path =
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        for dir in std::env::split_paths(&path) {
            if let Ok(real) = dir.join("pg_ctl").canonicalize() {
                if let Some(parent) = real.parent() {
                    if complete(parent) {
                        return Some(parent.to_path_buf());
                    }
                }
            }
        }
        let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let v: u32 = e.file_name().to_str()?.parse().ok()?;
                Some((v, e.path().join("bin")))
            })
            .filter(|(_, d)| complete(d))
            .collect();
        versioned.sort();
        versioned.pop().map(|(_, d)| d)
    }

    fn bin(host: &HostCtx, name: &str) -> Result<PathBuf> {
        let dir = Self::bin_dir(host.cfg).context("PostgreSQL is not installed on this host")?;
        Ok(dir.join(name))
    }

    fn socket_dir(host: &HostCtx) -> PathBuf {
        host.layout.sockets()
    }

    fn psql_probe(host: &HostCtx, meta: &InstanceMeta) -> Result<bool> {
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "psql")?, &host.layout.root);
        cmd.env("PGCONNECT_TIMEOUT", "5")
            .args(["-X", "-A", "-t", "-q", "-h"]);
        cmd.arg(Self::socket_dir(host))
            .arg("-p")
            .arg(meta.port.to_string())
            .args(["-U", &meta.admin_user, "-d", "postgres", "-c", "select 1"]);
        let out = cmd.output().context("running psql")?;
        Ok(out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1")
    }
}

/// Settings that follow from the instance's size.
pub fn settings_for(size: &Size) -> Vec<(&'static str, String)> {
    let mem = size.memory_mb.max(128);
    let conns = u64::from(size.max_connections.max(10));
    let cpus = size.cpus.ceil().max(1.0) as u64;
    vec![
        ("max_connections", conns.to_string()),
        ("shared_buffers", format!("{}MB", mem / 4)),
        ("effective_cache_size", format!("{}MB", mem * 3 / 4)),
        (
            "maintenance_work_mem",
            format!("{}MB", (mem / 16).clamp(16, 2048)),
        ),
        (
            "work_mem",
            format!("{}kB", (mem * 1024 / 4 / conns).max(1024)),
        ),
        ("max_worker_processes", (cpus * 2).max(8).to_string()),
        ("max_parallel_workers", cpus.to_string()),
        (
            "max_parallel_workers_per_gather",
            (cpus / 2).max(1).to_string(),
        ),
    ]
}

fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

impl Engine for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn detect(&self, cfg: &HostConfig) -> Option<EngineFact> {
        let dir = Self::bin_dir(cfg)?;
        let out = std::process::Command::new(dir.join("postgres"))
            .arg("--version")
            .output()
            .ok()?;
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.split_whitespace().nth(2)?.to_string();
        Some(EngineFact {
            name: self.name().into(),
            version,
            bin_dir: dir.display().to_string(),
        })
    }

    fn init(&self, host: &HostCtx, spec: &ProvisionSpec, port: u16, data_dir: &Path) -> Result<()> {
        let inst_dir = data_dir.parent().context("data dir has no parent")?;
        let sockets = Self::socket_dir(host);
        let sock_path_len = sockets
            .join(format!(".s.PGSQL.{port}.lock"))
            .as_os_str()
            .len();
        if sock_path_len > 100 {
            bail!(
                "socket path under {} would be {sock_path_len} bytes, over the 100 a unix socket allows; use a shorter dbhost --root",
                sockets.display()
            );
        }
        std::fs::create_dir_all(&sockets)?;
        std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o755))?;
        host.run_as.chown(&sockets)?;

        // The password reaches initdb through a file only the OS user can read, never argv.
        let pwfile = inst_dir.join(".pwfile");
        crate::fsutil::write_atomic(&pwfile, spec.admin_password.as_bytes(), 0o600)?;
        host.run_as.chown(&pwfile)?;
        let mut cmd = host.run_as.command(&Self::bin(host, "initdb")?, inst_dir);
        cmd.arg("-D")
            .arg(data_dir)
            .arg("--username")
            .arg(&spec.admin_user)
            .arg(format!("--pwfile={}", pwfile.display()))
            .args([
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "--data-checksums",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ]);
        let result = run_checked(&mut cmd, "initdb");
        let _ = std::fs::remove_file(&pwfile);
        result?;

        // Local connections by the OS user map to the admin role (dbhost's own probes); every
        // network connection needs the password.
        std::fs::write(
            data_dir.join("pg_hba.conf"),
            "# Written by dbhost.\nlocal all all peer map=dbhost\nhost all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n",
        )?;
        std::fs::write(
            data_dir.join("pg_ident.conf"),
            format!(
                "# Written by dbhost.\ndbhost {} {}\n",
                host.run_as.name, spec.admin_user
            ),
        )?;
        let mut conf =
            String::from("# Written by dbhost from the instance class; change it through dbctl.\n");
        conf += &format!("listen_addresses = {}\n", quote(&host.cfg.listen_address));
        conf += &format!("port = {port}\n");
        conf += &format!(
            "unix_socket_directories = {}\n",
            quote(&sockets.display().to_string())
        );
        for (k, v) in settings_for(&spec.size) {
            conf += &format!("{k} = {}\n", quote(&v));
        }
        conf += "password_encryption = 'scram-sha-256'\nlog_line_prefix = '%m [%p] %q%u@%d '\n";
        std::fs::write(data_dir.join(CONF_FILE), conf)?;
        let main_conf = data_dir.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&main_conf)?;
        text += &format!("\ninclude = '{CONF_FILE}'\n");
        std::fs::write(&main_conf, text)?;
        for f in ["pg_hba.conf", "pg_ident.conf", CONF_FILE, "postgresql.conf"] {
            let p = data_dir.join(f);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            host.run_as.chown(&p)?;
        }
        Ok(())
    }

    fn start(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        if self.liveness(host, name, meta)?.running {
            return Ok(());
        }
        let log = host.layout.log(name);
        if !log.exists() {
            std::fs::write(&log, "")?;
            host.run_as.chown(&log)?;
        }
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_ctl")?, &host.layout.instance(name));
        cmd.arg("start")
            .arg("-D")
            .arg(host.layout.data(name))
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "120", "-s"]);
        let out = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .output()
            .context("starting pg_ctl")?;
        if !out.status.success() {
            let log_tail = std::fs::read_to_string(&log).unwrap_or_default();
            let last: Vec<&str> = log_tail.lines().rev().take(3).collect();
            bail!(
                "PostgreSQL did not start: {} {}",
                tail(&out),
                last.into_iter().rev().collect::<Vec<_>>().join(" / ")
            );
        }
        Ok(())
    }

    fn stop(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<()> {
        if !self.liveness(host, name, meta)?.running {
            return Ok(());
        }
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_ctl")?, &host.layout.instance(name));
        cmd.arg("stop")
            .arg("-D")
            .arg(host.layout.data(name))
            .args(["-m", "fast", "-w", "-t", "120", "-s"]);
        run_checked(&mut cmd, "pg_ctl stop")?;
        Ok(())
    }

    fn liveness(&self, host: &HostCtx, name: &str, meta: &InstanceMeta) -> Result<Liveness> {
        let data = host.layout.data(name);
        let mut cmd = host
            .run_as
            .command(&Self::bin(host, "pg_ctl")?, &host.layout.root);
        cmd.arg("status").arg("-D").arg(&data);
        let out = cmd.output().context("running pg_ctl status")?;
        if !out.status.success() {
            return Ok(Liveness::default());
        }
        let pid = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()));
        Ok(Liveness {
            running: true,
            pid,
            accepting: Self::psql_probe(host, meta)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_settings_follow_the_class() {
        let s = settings_for(&Size {
            cpus: 2.0,
            memory_mb: 4096,
            max_connections: 200,
        });
        let get = |k: &str| s.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("shared_buffers"), "1024MB");
        assert_eq!(get("effective_cache_size"), "3072MB");
        assert_eq!(get("max_connections"), "200");
        assert_eq!(get("maintenance_work_mem"), "256MB");
        assert_eq!(get("work_mem"), "5242kB");
    }

    #[test]
    fn quotes_config_values() {
        assert_eq!(quote("a'b"), "'a''b'");
    }
}
