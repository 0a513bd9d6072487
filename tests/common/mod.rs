//! The test environment: each test gets its own slot (a loopback /24 and a port range), its own
//! temp dirs and dbctl home, real sshd "hosts", and cleanup of every process it started, by pid.

#![allow(dead_code)]

pub mod garage;

use serde_json::Value;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const DBCTL: &str = env!("CARGO_BIN_EXE_dbctl");
pub const DBHOST: &str = env!("CARGO_BIN_EXE_dbhost");

/// A slot held for the life of a test (an flock), so parallel tests — threads or processes —
/// never share addresses or ports.
struct Slot {
    n: u16,
    _lock: nix::fcntl::Flock<File>,
}

fn take_slot() -> Slot {
    let dir = Path::new("/tmp/dbctl-test-slots");
    std::fs::create_dir_all(dir).unwrap();
    loop {
        for n in 0..200u16 {
            let f = File::create(dir.join(format!("{n}.lock"))).unwrap();
            if let Ok(lock) =
                nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock)
            {
                return Slot { n, _lock: lock };
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts the exit status and that stderr is exactly one line (bad input's contract).
    #[track_caller]
    pub fn fails_with(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn one_line_error(self, code: i32, needle: &str) -> Self {
        let r = self.fails_with(code);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got: {}",
            r.stderr
        );
        assert!(lines[0].starts_with("error: "), "{}", r.stderr);
        assert!(
            r.stderr.contains(needle),
            "expected {needle:?} in: {}",
            r.stderr
        );
        r
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

pub struct TestEnv {
    pub dir: PathBuf,
    pub home: PathBuf,
    /// The PostgreSQL catalog this test's commands use (a database of its own on the server
    /// DBCTL_TEST_CATALOG names), or None for the SQLite file in the home.
    pub catalog: Option<String>,
    slot: Slot,
    /// dbhost roots whose servers this test may have started.
    roots: Vec<PathBuf>,
    sshds: Vec<Child>,
    /// Dropped after the servers on them are killed (fields drop after `drop` runs).
    mounts: Vec<LoopMount>,
    _tmp: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let slot = take_slot();
        // scripts/test gives the suite a memory filesystem of its own (DBCTL_TEST_TMP): the
        // tests make and delete millions of small files, and ext4's inode allocation for
        // them was an eighth of the suite's CPU.
        let parent = std::env::var("DBCTL_TEST_TMP")
            .ok()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "/tmp".into());
        let tmp = tempfile::Builder::new()
            .prefix("dbctl-t")
            .tempdir_in(parent)
            .unwrap();
        // The servers run as OS users of their own, which must be able to walk into the tree.
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = tmp.path().to_path_buf();
        Self {
            home: dir.join("home"),
            catalog: test_catalog(),
            dir,
            slot,
            roots: Vec::new(),
            sshds: Vec::new(),
            mounts: Vec::new(),
            _tmp: tmp,
        }
    }

    /// Loopback address `k` of this test's /24 (127.0.<slot+10>.k).
    pub fn ip(&self, k: u8) -> String {
        format!("127.0.{}.{k}", self.slot.n + 10)
    }

    /// This test's port block `k` (10 ports); blocks 0..=3 per test.
    pub fn ports(&self, k: u16) -> [u16; 2] {
        let base = 30000 + self.slot.n * 40 + k * 10;
        [base, base + 9]
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(DBCTL);
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("DBCTL_HOME", &self.home)
            .env("DBCTL_DBHOST", DBHOST)
            .args(args)
            .stdin(Stdio::null());
        if let Some(url) = &self.catalog {
            c.env("DBCTL_CATALOG", url);
        }
        c
    }

    /// Runs one statement on this test's catalog, whichever database holds it (values are
    /// written into `sql` by the test itself).
    pub fn catalog_execute(&self, sql: &str) -> u64 {
        match &self.catalog {
            Some(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .execute(sql, &[])
                .unwrap(),
            None => rusqlite::Connection::open(self.home.join("catalog.db"))
                .unwrap()
                .execute(sql, [])
                .unwrap() as u64,
        }
    }

    /// The one integer a query on this test's catalog returns.
    pub fn catalog_i64(&self, sql: &str) -> i64 {
        match &self.catalog {
            Some(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .query_one(sql, &[])
                .unwrap()
                .get(0),
            None => rusqlite::Connection::open(self.home.join("catalog.db"))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
        }
    }

    pub fn dbctl(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    pub fn dbctl_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        Run::from(c.output().unwrap())
    }

    pub fn local_root(&self) -> PathBuf {
        self.dir.join("local-root")
    }

    /// `dbctl init` with this test's local root and ports.
    pub fn init(&mut self) {
        let root = self.local_root();
        self.init_at(root);
    }

    /// `dbctl init` with the local host's root at `root`.
    pub fn init_at(&mut self, root: PathBuf) {
        self.roots.push(root.clone());
        let [lo, hi] = self.ports(0);
        self.dbctl(&[
            "init",
            "--local-root",
            root.to_str().unwrap(),
            "--local-ports",
            &format!("{lo}-{hi}"),
        ])
        .ok();
        // The default class reserves 1 GiB here, not 10: whether a test's six instances fit
        // must not depend on how much of this machine's disk happens to be free.
        let config = self.home.join("config.toml");
        let mut text = std::fs::read_to_string(&config).unwrap_or_default();
        if !text.contains("[classes.small]") {
            text += "\n[classes.small]\ncpus = 1.0\nmemory_mb = 1024\nmax_connections = 100\nstorage_gb = 1\n";
            std::fs::write(&config, text).unwrap();
        }
    }

    /// Appends `text` to the home's config.toml.
    pub fn add_config(&self, text: &str) {
        let config = self.home.join("config.toml");
        let old = std::fs::read_to_string(&config).unwrap_or_default();
        std::fs::write(&config, old + text).unwrap();
    }

    /// How many live instances `dbctl list` shows.
    pub fn instance_count(&self) -> usize {
        self.dbctl(&["list", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len()
    }

    /// An `[endpoints] hook` in config.toml that records its arguments and environment, one
    /// line per run, in the file returned.
    pub fn endpoint_hook(&self) -> PathBuf {
        let (hook, out) = self.recording_script(
            "hook",
            "$@|$DBCTL_ENDPOINT|$DBCTL_OLD_ADDRESS|$DBCTL_NEW_ADDRESS",
        );
        let config = self.home.join("config.toml");
        let text = std::fs::read_to_string(&config).unwrap_or_default()
            + &format!("\n[endpoints]\nhook = [\"{}\"]\n", hook.display());
        std::fs::write(&config, text).unwrap();
        out
    }

    /// A script `NAME.sh` that appends `line` (shell words expanded) to `NAME.out` each time
    /// it runs; returns both paths.
    pub fn recording_script(&self, name: &str, line: &str) -> (PathBuf, PathBuf) {
        let out = self.dir.join(format!("{name}.out"));
        let script = self.dir.join(format!("{name}.sh"));
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"{line}\" >> {}\n", out.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        (script, out)
    }

    /// The live instances' names, sorted.
    pub fn instance_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .dbctl(&["list", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    }

    /// The kinds of an instance's events, oldest first.
    /// What bash offers at the end of `line`, through the committed `completions/dbctl.bash`
    /// (which asks this build's dbctl, as a shell would at TAB).
    pub fn complete_bash(&self, line: &str) -> Vec<String> {
        self.complete_in("bash", line)
    }

    /// What `shell` (bash, zsh or fish), with dbctl's committed completion script loaded,
    /// offers for `line` (the cursor at its end): each offer's value, without its help.
    pub fn complete_in(&self, shell: &str, line: &str) -> Vec<String> {
        let (args, file): (&[&str], &str) = match shell {
            "bash" => (
                &[
                    "--norc",
                    "-c",
                    r#"
source "$COMPLETIONS"
read -ra COMP_WORDS <<< "$LINE"
if [[ "$LINE" == *" " ]]; then COMP_WORDS+=(""); fi
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$LINE"; COMP_POINT=${#LINE}
_clap_complete_dbctl dbctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
"#,
                ],
                "dbctl.bash",
            ),
            // The script's own function, run by a real zsh; only compsys's two entry points
            // (which need a line editor) are stood in for: _describe prints what it is given.
            "zsh" => (
                &[
                    "-f",
                    "-c",
                    r#"
compdef() { : }
_describe() {
  local name
  while (( $# )); do [[ $1 == values ]] && { name=$2; break }; shift; done
  print -rl -- "${(@P)name}"
}
source "$COMPLETIONS"
words=(${(z)LINE})
[[ $LINE == *' ' ]] && words+=('')
CURRENT=${#words}
_clap_dynamic_completer_dbctl
"#,
                ],
                "_dbctl",
            ),
            // fish completes a command line of its own without a terminal.
            "fish" => (
                &[
                    "--no-config",
                    "-c",
                    r#"source $COMPLETIONS; complete -C "$LINE""#,
                ],
                "dbctl.fish",
            ),
            other => panic!("no completion test for {other}"),
        };
        let bin = Path::new(DBCTL).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new(shell);
        c.args(args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.dir)
            .env("DBCTL_HOME", &self.home)
            .env(
                "COMPLETIONS",
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("completions")
                    .join(file),
            )
            .env("LINE", line);
        if let Some(url) = &self.catalog {
            c.env("DBCTL_CATALOG", url);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            // zsh's offers are VALUE:HELP, fish's VALUE<TAB>HELP.
            .map(|l| l.split(['\t', ':']).next().unwrap_or(l).to_string())
            .collect()
    }

    pub fn event_kinds(&self, instance: &str) -> Vec<String> {
        let events = self.dbctl(&["events", instance, "-o", "json"]).ok().json();
        events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    }

    /// An instance's status as `dbctl describe` reports it.
    pub fn status_of(&self, instance: &str) -> String {
        self.dbctl(&["describe", instance, "-o", "json"])
            .ok()
            .json()["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// What a failed command must leave alone: instances, workflows, events, host names.
    pub fn catalog_state(&self) -> String {
        let hosts: Vec<String> = self
            .dbctl(&["host", "list", "-o", "json"])
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].to_string())
            .collect();
        format!(
            "{}\n{}\n{}\n{:?}",
            self.dbctl(&["list", "-o", "json"]).stdout,
            self.dbctl(&["workflow", "list", "-o", "json"]).stdout,
            self.dbctl(&["events", "-o", "json"]).stdout,
            hosts
        )
    }

    /// `psql` on an instance's URL, unaligned, stopping at the first error.
    pub fn psql_run(&self, instance: &str, sql: &str) -> Output {
        let url = self
            .dbctl(&["url", instance])
            .ok()
            .stdout
            .trim()
            .to_string();
        Command::new("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                &url,
                "-c",
                sql,
            ])
            .output()
            .unwrap()
    }

    /// Runs `psql` against an instance's URL, returning its unaligned output.
    #[track_caller]
    pub fn psql(&self, instance: &str, sql: &str) -> String {
        let out = self.psql_run(instance, sql);
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs `psql` expecting it to fail; returns its error output.
    #[track_caller]
    pub fn psql_fails(&self, instance: &str, sql: &str) -> String {
        let out = self.psql_run(instance, sql);
        assert!(
            !out.status.success(),
            "psql succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Starts a real sshd on address `k` whose key runs `forced` (default: this build's dbhost
    /// with its own root) and whose client key is of `key_type` ("ed25519" or "rsa").
    pub fn ssh_host(&mut self, name: &str, k: u8, key_type: &str, forced: Option<&str>) -> SshHost {
        let dir = self.dir.join("hosts").join(name);
        let root = dir.join("root");
        std::fs::create_dir_all(&root).unwrap();
        for d in [dir.parent().unwrap(), &dir, &root] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let address = self.ip(k);
        let [lo, hi] = self.ports(u16::from(k));
        std::fs::write(
            root.join("dbhost.toml"),
            format!("listen_address = \"{address}\"\nport_range = [{lo}, {hi}]\n"),
        )
        .unwrap();
        let client_key = dir.join("client_key");
        keygen(&client_key, key_type);
        keygen(&dir.join("host_key"), "ed25519");
        let forced = forced
            .map(str::to_string)
            .unwrap_or_else(|| format!("{DBHOST} --root {} rpc", root.display()));
        let pubkey = std::fs::read_to_string(dir.join("client_key.pub")).unwrap();
        std::fs::write(
            dir.join("authorized_keys"),
            format!("command=\"{forced}\",restrict {pubkey}"),
        )
        .unwrap();
        // sshd's port: the last port of a block no instance uses.
        let ssh_port = self.ports(3)[0] + u16::from(k);
        std::fs::write(
            dir.join("sshd_config"),
            format!(
                "Port {ssh_port}\nListenAddress {address}\nHostKey {hk}\nAuthorizedKeysFile {ak}\nPidFile {pid}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel ERROR\n",
                hk = dir.join("host_key").display(),
                ak = dir.join("authorized_keys").display(),
                pid = dir.join("sshd.pid").display(),
            ),
        )
        .unwrap();
        self.roots.push(root.clone());
        let mut host = SshHost {
            name: name.into(),
            address,
            port: ssh_port,
            root,
            dir,
            identity: client_key,
            sshd_index: 0,
        };
        self.start_sshd(&mut host);
        host
    }

    /// The pid of a host's sshd (the listener: its connections are its children).
    pub fn sshd_pid(&self, host: &SshHost) -> i32 {
        self.sshds[host.sshd_index].id() as i32
    }

    /// Stops a host's sshd (the machine "goes away"); `start_sshd` brings it back.
    pub fn stop_sshd(&mut self, host: &SshHost) {
        let child = &mut self.sshds[host.sshd_index];
        kill_pid(child.id() as i32);
        let _ = child.wait();
    }

    pub fn start_sshd(&mut self, host: &mut SshHost) {
        std::fs::create_dir_all("/run/sshd").unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(host.dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd (install openssh-server: scripts/install-deps)");
        host.sshd_index = self.sshds.len();
        self.sshds.push(child);
        wait_for_port(&host.address, host.port);
    }

    /// The host is destroyed: its sshd stops, its servers and shippers are killed (by pid),
    /// its instances' OS users go, and its root is emptied.
    pub fn destroy_host(&mut self, host: &SshHost) {
        self.stop_sshd(host);
        for pid in server_pids(&host.root)
            .into_iter()
            .chain(shipper_pids(&host.root))
        {
            kill_pid(pid);
        }
        if let Ok(canon) = host.root.canonicalize() {
            remove_instance_users(&canon);
        }
        for e in std::fs::read_dir(&host.root).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
            } else {
                std::fs::remove_file(&p).unwrap();
            }
        }
    }

    /// Stops a host's sshd, gives it a new host key, and starts it again.
    pub fn rekey(&mut self, host: &mut SshHost) {
        self.stop_sshd(host);
        let _ = std::fs::remove_file(host.dir.join("host_key"));
        let _ = std::fs::remove_file(host.dir.join("host_key.pub"));
        keygen(&host.dir.join("host_key"), "ed25519");
        self.start_sshd(host);
    }

    /// `dbctl host add` for an SshHost.
    pub fn add_host(&self, h: &SshHost) -> Run {
        self.dbctl(&[
            "host",
            "add",
            &h.name,
            "--address",
            &h.address,
            "--port",
            &h.port.to_string(),
            "--user",
            &whoami(),
            "--identity",
            h.identity.to_str().unwrap(),
            "-o",
            "json",
        ])
    }

    /// Mounts a fresh btrfs filesystem of `size_mb` for this test and returns where; None
    /// (with the reason printed) where the machine cannot.
    pub fn btrfs(&mut self, size_mb: u64) -> Option<PathBuf> {
        self.loop_fs(size_mb, "btrfs")
    }

    /// Mounts a fresh filesystem of `fstype` ("btrfs", "ext4") and `size_mb` on a loop device
    /// for this test and returns where; None (with the reason printed) where the machine
    /// cannot.
    pub fn loop_fs(&mut self, size_mb: u64, fstype: &str) -> Option<PathBuf> {
        let m = LoopMount::make(self, size_mb, fstype)?;
        let path = m.path.clone();
        self.mounts.push(m);
        Some(path)
    }

    /// Runs `pgbench` (from the PostgreSQL client package) against an instance.
    pub fn pgbench(&self, instance: &str, args: &[&str]) -> Command {
        let url = self
            .dbctl(&["url", instance])
            .ok()
            .stdout
            .trim()
            .to_string();
        let mut c = Command::new(pgbench_path());
        c.args(args)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// The JSON of `dbctl snapshot list NAME`.
    /// Deletes the base snapshot `name` was made with, for a test whose window must start at
    /// a snapshot of its own.
    pub fn drop_base_snapshot(&self, name: &str) {
        for s in self.snapshots(name) {
            if s["tag"] == "base" && s["status"] == "available" {
                self.dbctl(&["snapshot", "delete", &s["id"].to_string(), "--yes"])
                    .ok();
            }
        }
    }

    pub fn snapshots(&self, instance: &str) -> Vec<Value> {
        self.dbctl(&["snapshot", "list", instance, "-o", "json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Server processes still running under this test's dbhost roots.
    pub fn running_servers(&self) -> Vec<i32> {
        self.roots.iter().flat_map(|r| server_pids(r)).collect()
    }
}

/// A btrfs filesystem on a loop device this test made; unmounted and detached on drop.
pub struct LoopMount {
    pub path: PathBuf,
    device: String,
}

impl LoopMount {
    /// None, with the reason printed, where this machine cannot make one (not root, no loop
    /// devices, no btrfs): the caller skips rather than passing silently.
    fn make(env: &TestEnv, size_mb: u64, fstype: &str) -> Option<Self> {
        let why = |m: &str| {
            eprintln!("SKIPPED: this test needs a {fstype} filesystem on a loop device: {m}");
            None
        };
        if !nix::unistd::Uid::effective().is_root() {
            return why("not running as root");
        }
        let image = env.dir.join(format!("{fstype}.img"));
        std::fs::File::create(&image)
            .unwrap()
            .set_len(size_mb << 20)
            .unwrap();
        let out = Command::new("losetup")
            .args(["--find", "--show"])
            .arg(&image)
            .output()
            .unwrap();
        if !out.status.success() {
            return why(&String::from_utf8_lossy(&out.stderr));
        }
        let device = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let path = env.dir.join(fstype);
        std::fs::create_dir_all(&path).unwrap();
        let mkfs = Command::new(format!("mkfs.{fstype}"))
            .args(["-q", &device])
            .output()
            .unwrap();
        let mounted = mkfs.status.success()
            && Command::new("mount")
                .arg(&device)
                .arg(&path)
                .status()
                .unwrap()
                .success();
        if !mounted {
            let _ = Command::new("losetup").args(["-d", &device]).status();
            return why(&format!(
                "mkfs.{fstype}/mount failed: {}",
                String::from_utf8_lossy(&mkfs.stderr)
            ));
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(Self { path, device })
    }
}

impl Drop for LoopMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

pub struct SshHost {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub root: PathBuf,
    pub dir: PathBuf,
    pub identity: PathBuf,
    sshd_index: usize,
}

impl SshHost {
    /// The host key's fingerprint as ssh-keygen prints it.
    pub fn fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.dir.join("host_key.pub"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }
}

fn pgbench_path() -> PathBuf {
    std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .flatten()
        .map(|e| e.path().join("bin/pgbench"))
        .find(|p| p.exists())
        .expect("pgbench (postgresql-contrib / postgresql-client)")
}

/// A database of its own on the catalog server DBCTL_TEST_CATALOG names (the suite's
/// PostgreSQL catalog run), or None for SQLite catalogs.
fn test_catalog() -> Option<String> {
    let base = std::env::var("DBCTL_TEST_CATALOG")
        .ok()
        .filter(|v| !v.is_empty())?;
    let name = format!("dbctl_t{:016x}", rand::random::<u64>());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test catalog server {base}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    Some(format!("{head}/{name}"))
}

pub fn whoami() -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .unwrap()
        .unwrap()
        .name
}

fn keygen(path: &Path, kind: &str) {
    let mut c = Command::new("ssh-keygen");
    c.args(["-q", "-N", "", "-t", kind]);
    if kind == "rsa" {
        c.args(["-b", "2048"]);
    }
    let st = c.arg("-f").arg(path).stdin(Stdio::null()).status().unwrap();
    assert!(st.success());
}

fn wait_for_port(address: &str, port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect((address, port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "sshd did not listen on {address}:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pid of the PostgreSQL server running on data directory `data`.
pub fn postmaster_pid(data: &Path) -> i32 {
    std::fs::read_to_string(data.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Destroys an instance's data directory under its running server: the server is killed
/// (as a crash would) and the directory removed.
pub fn destroy_data(data: &Path) {
    let pid = postmaster_pid(data);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    std::fs::remove_dir_all(data).unwrap();
}

/// The names of the entries of `dir`, sorted (none when it cannot be read).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Server pids under a dbhost root: postmasters from the data directories, mariadbd from the
/// pid files in the socket directories.
pub fn server_pids(root: &Path) -> Vec<i32> {
    let listing = |d: PathBuf| {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
    };
    let postmasters = listing(root.join("instances")).map(|p| p.join("data/postmaster.pid"));
    let run = root.join("run");
    let mariadbs = listing(run.clone())
        .flat_map(listing)
        .chain(listing(run))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("mariadb.") && n.ends_with(".pid"))
        });
    postmasters
        .chain(mariadbs)
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| t.lines().next()?.trim().parse().ok())
        .filter(|pid: &i32| Path::new(&format!("/proc/{pid}")).exists())
        .collect()
}

/// Every process descended from `pid` (read from /proc), children before theirs.
pub fn descendants(pid: i32) -> Vec<i32> {
    let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces, so read after its ')'.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((p, ppid))
        })
        .collect();
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for (child, _) in parents.iter().filter(|(_, pp)| *pp == p) {
            out.push(*child);
            frontier.push(*child);
        }
    }
    out
}

/// `dbhost rpc` processes serving the root `root` (a request, or a conversation kept open).
pub fn rpc_pids(root: &Path) -> Vec<i32> {
    let root = root.display().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| {
                let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
                args.contains(&root.as_bytes()) && args.contains(&b"rpc".as_slice())
            })
        })
        .collect()
}

/// Binary log shippers running under a dbhost root (each leaves with its server).
pub fn shipper_pids(root: &Path) -> Vec<i32> {
    let run = root.join("run");
    let dirs = std::iter::once(run.clone()).chain(
        std::fs::read_dir(&run)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    );
    dirs.flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("binlog-ship.") && n.ends_with(".pid")
        })
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| t.trim().parse().ok())
        .filter(|pid: &i32| Path::new(&format!("/proc/{pid}")).exists())
        .collect()
}

pub(crate) fn kill_pid(pid: i32) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() && start.elapsed() < Duration::from_secs(10) {
        // Zombies of our own children are reaped by their Child handles; others by init.
        if std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z ")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}

/// Removes the OS users dbhost made for the instances under `root` (a test that failed
/// half-way may have left some).
fn remove_instance_users(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root.join("instances")) else {
        return;
    };
    for e in entries.flatten() {
        let uid = e.file_name().to_string_lossy().into_owned();
        let user = dbctl::agent::osuser::instance_user_name(root, &uid);
        if nix::unistd::User::from_name(&user).ok().flatten().is_some() {
            let _ = Command::new("userdel").arg(&user).status();
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        for pid in self.running_servers() {
            kill_pid(pid);
        }
        for pid in self.roots.iter().flat_map(|r| shipper_pids(r)) {
            kill_pid(pid);
        }
        for root in &self.roots {
            if let Ok(canon) = root.canonicalize() {
                remove_instance_users(&canon);
            }
        }
        for child in &mut self.sshds {
            kill_pid(child.id() as i32);
            let _ = child.wait();
        }
    }
}

/// A child process this test started, stopped (by its pid) when dropped.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        kill_pid(self.0.id() as i32);
        let _ = self.0.wait();
    }
}
