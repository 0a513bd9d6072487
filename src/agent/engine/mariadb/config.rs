//! The server's settings file (`dbhost.cnf` in the data directory): sizes from the class,
//! the port, and a binary log that makes every commit durable and replayable. Paths that
//! depend on where the data directory is (it is made under another name and renamed) are
//! given on the server's command line instead.

use crate::agent::engine::HostCtx;
use crate::wire::Size;
use anyhow::Result;
use std::path::Path;

pub(super) const FILE: &str = "dbhost.cnf";

/// The settings for an instance of `size` listening on `port`, with `server_id`, writing
/// the binary log of `branch` (see [`super::binlog`]); the `[dbhost]` section (the server
/// reads only its own) tells the binary log shipper how long a write may wait before its
/// file is closed and archived.
pub(super) fn settings(
    host: &HostCtx,
    size: &Size,
    port: u16,
    server_id: u32,
    archive_timeout_secs: u32,
    branch: u32,
) -> String {
    let mem = size.memory_mb.max(256);
    // InnoDB's buffer pool is most of the class's memory; its redo log a quarter of that,
    // so a checkpoint does not have to come every few seconds under write load.
    let pool = mem * 5 / 8;
    let redo = (pool / 4).clamp(48, 4096);
    let mut c = String::from(
        "# Written by dbhost from the instance class; change it through dbctl.\n[mariadbd]\n",
    );
    c += &format!("port = {port}\n");
    c += &format!("bind-address = {}\n", host.cfg.bind_address());
    c += "skip-name-resolve = ON\n";
    c += &format!("max_connections = {}\n", size.max_connections.max(10));
    c += &format!("innodb_buffer_pool_size = {pool}M\n");
    c += &format!("innodb_log_file_size = {redo}M\n");
    c += "default_storage_engine = InnoDB\n";
    // Text is UTF-8 unless a schema says otherwise, as Debian's packaged server has it (the
    // compiled-in default is latin1).
    c += "character_set_server = utf8mb4\n";
    // A row up to MariaDB's limit: a binary log event of a larger row than the default 16 MB
    // would otherwise stop a point-in-time replay that the source itself accepted.
    c += "max_allowed_packet = 1G\n";
    c += "collation_server = utf8mb4_general_ci\n";
    c += "innodb_flush_log_at_trx_commit = 1\n";
    // Every commit goes to the binary log, synced, with a checksum per event and a GTID:
    // what point-in-time recovery replays.
    c += &format!("server_id = {server_id}\n");
    c += &format!("log_bin = {}\n", super::binlog::base(branch));
    c += "binlog_format = ROW\n";
    c += "sync_binlog = 1\n";
    c += "binlog_checksum = CRC32\n";
    c += "gtid_strict_mode = ON\n";
    c += "log_slave_updates = ON\n";
    c += &format!(
        "\n[dbhost]\narchive_timeout = {}\n",
        archive_timeout_secs.max(1)
    );
    c
}

/// The archive timeout in the settings file of `data_dir` (60 s when it says none).
pub(super) fn archive_timeout(data_dir: &Path) -> u32 {
    setting(data_dir, "[dbhost]", "archive_timeout")
        .and_then(|n| n.parse().ok())
        .unwrap_or(60)
}

/// The base name of the binary log files the server in `data_dir` writes (its `log_bin`).
pub(super) fn log_base(data_dir: &Path) -> String {
    setting(data_dir, "[mariadbd]", "log_bin")
        .filter(|b| {
            use crate::agent::logs::LogFormat;
            super::binlog::Binlog::default().in_chain(&format!("{b}.000001"))
        })
        .unwrap_or_else(|| super::binlog::BASE.into())
}

/// The value of `key` in `section` of the settings file of `data_dir`.
fn setting(data_dir: &Path, section: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(FILE)).unwrap_or_default();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == section;
        } else if let Some((k, v)) = line.split_once('=') {
            if inside && k.trim() == key {
                return Some(v.trim().to_string());
            }
        }
    }
    None
}

/// Writes the settings file into `data_dir` (replacing whatever is there, never through a
/// link: the directory belongs to the instance's OS user), readable by that user alone.
///
/// # Errors
/// The file cannot be written.
pub(super) fn write(host: &HostCtx, data_dir: &Path, text: &str) -> Result<()> {
    let p = data_dir.join(FILE);
    crate::fsutil::replace_file(&p, text.as_bytes(), 0o600)?;
    host.run_as.chown(&p)
}

/// A server id for the instance: one per instance name and host root, never 0.
pub(super) fn server_id(root: &Path, instance: &str) -> u32 {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{}\0{instance}", root.display()).as_bytes());
    (u32::from_be_bytes([h[0], h[1], h[2], h[3]]) & 0x7fff_ffff).max(1)
}
