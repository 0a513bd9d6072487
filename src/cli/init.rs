//! `dbctl init`: create the home and register this machine as host `local`.

use super::Env;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Create dbctl's home (catalog, config, secrets) and register this machine as host `local`.
///
/// Safe to run again with the same settings (or none): an existing home and local host are
/// kept as they are; other settings are refused, never silently ignored.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// dbhost's root directory for the local host [default: /var/lib/dbhost as root, else HOME/host]
    #[arg(long, value_name = "DIR")]
    pub local_root: Option<PathBuf>,
    /// Address clients use to reach instances on this machine (servers listen on it)
    /// [default: 127.0.0.1]
    #[arg(long, value_name = "ADDR")]
    pub local_address: Option<String>,
    /// Ports the local host picks from, as LOW-HIGH.
    #[arg(long, value_name = "LOW-HIGH", value_parser = parse_range)]
    pub local_ports: Option<[u16; 2]>,
}

fn parse_range(s: &str) -> Result<[u16; 2], String> {
    let (a, b) = s
        .split_once('-')
        .ok_or("expected LOW-HIGH, e.g. 5433-5999")?;
    let lo: u16 = a.parse().map_err(|_| format!("`{a}` is not a port"))?;
    let hi: u16 = b.parse().map_err(|_| format!("`{b}` is not a port"))?;
    if lo == 0 || lo > hi {
        return Err("need 0 < LOW <= HIGH".into());
    }
    Ok([lo, hi])
}

pub fn run(env: &Env, a: &InitArgs) -> Result<()> {
    // All or nothing: a home or catalog file this init makes goes again if init fails, so a
    // home is never left looking initialized with an empty fleet.
    let catalog = env.home.catalog_path();
    let made_here = !catalog.exists();
    let made_home = !env.home.dir.exists();
    let result = init(env, a);
    if result.is_err() && made_home {
        let _ = std::fs::remove_dir_all(&env.home.dir);
    } else if result.is_err() && made_here {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = catalog.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(p));
        }
    }
    result
}

fn init(env: &Env, a: &InitArgs) -> Result<()> {
    let mut ctx = env.home.create()?;
    let key = ctx.secrets.ensure_team_key()?;
    let root = a.local_root.clone().unwrap_or_else(|| {
        if nix::unistd::Uid::effective().is_root() {
            PathBuf::from("/var/lib/dbhost")
        } else {
            env.home.dir.join("host")
        }
    });
    let host = crate::control::hosts::registry::init_local(
        &mut ctx,
        &crate::control::hosts::registry::LocalInit {
            root,
            address: a
                .local_address
                .clone()
                .unwrap_or_else(|| "127.0.0.1".into()),
            port_range: a.local_ports,
            root_given: a.local_root.is_some(),
            address_given: a.local_address.is_some(),
        },
    );
    let host = match host {
        Ok(h) => h,
        Err(e) => {
            if key == crate::secrets::KeyState::Made {
                ctx.secrets.unmake_team_key()?;
            }
            return Err(e);
        }
    };
    let p = &env.printer;
    if p.is_json() {
        p.json(
            &serde_json::json!({"home": env.home.dir, "local_host": host.name, "root": host.root, "team_key": format!("{key:?}").to_lowercase()}),
        );
    } else {
        p.note(&format!(
            "dbctl home: {}\nhost local: dbhost root {}, engines: {}",
            env.home.dir.display(),
            host.root.clone().unwrap_or_default(),
            host.facts
                .engines
                .iter()
                .map(|e| format!("{} {}", e.name, e.version))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        match key {
            crate::secrets::KeyState::Made => p.note(&format!(
                "made the team key that seals this shared catalog's secrets: {}; every other control machine needs it (`dbctl catalog key export FILE` here, `dbctl catalog key import FILE` there)",
                ctx.secrets.file(crate::secrets::TEAM_KEY).display()
            )),
            crate::secrets::KeyState::Missing => p.note(
                "this shared catalog's secrets are sealed with a team key this machine does not hold yet: on one that has it run `dbctl catalog key export FILE`, then here `dbctl catalog key import FILE`",
            ),
            _ => {}
        }
    }
    Ok(())
}
