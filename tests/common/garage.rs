//! A single-node Garage (the S3-compatible store) for one test: its own directory and ports,
//! one bucket and one key allowed on it; stopped by its pid when dropped. The binary is the
//! one scripts/install-deps builds into the cache.

use super::TestEnv;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Garage {
    child: Child,
    /// Where it keeps object data, stored as sent (no compression of its own), so a test
    /// can look for plaintext in it.
    pub data_dir: PathBuf,
    conf: PathBuf,
    bin: PathBuf,
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub key_id: String,
    pub secret: String,
}

fn binary() -> PathBuf {
    if let Some(b) = std::env::var_os("DBCTL_GARAGE") {
        return b.into();
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cache"));
    cache.join("dbctl/garage-2.3.0/bin/garage")
}

impl Garage {
    pub fn start(env: &TestEnv) -> Self {
        let bin = binary();
        assert!(
            bin.exists(),
            "{} is missing: run scripts/install-deps (it builds Garage once)",
            bin.display()
        );
        let dir = env.dir.join("garage");
        std::fs::create_dir_all(&dir).unwrap();
        let base = env.ports(3)[0] + 6;
        let (s3, rpc, admin) = (base, base + 1, base + 2);
        let secret: String = (0..32)
            .map(|i| format!("{:02x}", (i * 37 + base as usize) % 256))
            .collect();
        let conf = dir.join("garage.toml");
        std::fs::write(
            &conf,
            format!(
                "metadata_dir = \"{d}/meta\"\ndata_dir = \"{d}/data\"\ndb_engine = \"sqlite\"\nreplication_factor = 1\n\
                 compression_level = \"none\"\n\
                 rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\
                 [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3}\"\nroot_domain = \".s3.garage.localhost\"\n\
                 [admin]\napi_bind_addr = \"127.0.0.1:{admin}\"\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .arg("server")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut g = Garage {
            child,
            data_dir: dir.join("data"),
            conf,
            bin,
            endpoint: format!("http://127.0.0.1:{s3}"),
            region: "garage".into(),
            bucket: "dbctl-test".into(),
            key_id: String::new(),
            secret: String::new(),
        };
        let started = Instant::now();
        while g.cli(&["status"]).is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "garage did not start: {}",
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let node = g.cli(&["node", "id", "-q"]).unwrap();
        let node = node.trim().split('@').next().unwrap().to_string();
        g.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node])
            .unwrap();
        g.cli(&["layout", "apply", "--version", "1"]).unwrap();
        let key = g.cli(&["key", "create", "test-key"]).unwrap();
        let field = |name: &str| {
            key.lines()
                .find(|l| l.contains(name))
                .and_then(|l| l.split_whitespace().last())
                .unwrap()
                .to_string()
        };
        g.key_id = field("Key ID");
        g.secret = field("Secret key");
        g.cli(&["bucket", "create", &g.bucket.clone()]).unwrap();
        g.cli(&[
            "bucket",
            "allow",
            "--read",
            "--write",
            "--owner",
            &g.bucket.clone(),
            "--key",
            "test-key",
        ])
        .unwrap();
        g
    }

    /// Runs `garage` with this server's settings: its output, or None when it failed.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        super::kill_pid(self.child.id() as i32);
        let _ = self.child.wait();
    }
}
