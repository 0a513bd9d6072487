//! The daemon's Prometheus metrics (`[metrics] listen`, loopback only, off by default): per
//! instance its observed health, how old its newest restorable point, last snapshot, last
//! backup and shipped logs are; per host whether it answered and how fast; workflows by
//! state. Read from the catalog at each scrape: a scrape never calls a host.

use crate::catalog::{backups, health, hosts, instances, log_ranges, snapshots, workflows};
use crate::control::base::home::Ctx;
use anyhow::Result;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(String, String)>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;

fn age(t: Option<&str>, now: time::OffsetDateTime) -> Option<f64> {
    let t = crate::times::parse(t?)?;
    Some((now - t).as_seconds_f64().max(0.0))
}

fn gauge(registry: &mut Registry, name: &str, help: &str) -> Gauges {
    let g = Gauges::default();
    registry.register(name, help, g.clone());
    g
}

/// The metrics now, in Prometheus' text format.
///
/// # Errors
/// The catalog fails.
pub fn render(ctx: &Ctx) -> Result<String> {
    let conn = ctx.catalog.conn();
    let now = time::OffsetDateTime::now_utc();
    let mut r = Registry::with_prefix("dbctl");
    let healthy = gauge(
        &mut r,
        "instance_healthy",
        "1 when the monitor last found the instance serving (healthy or degraded), else 0",
    );
    let state = gauge(
        &mut r,
        "instance_health_state",
        "1 for the monitor's last verdict on the instance",
    );
    let restorable = gauge(
        &mut r,
        "instance_restorable_age_seconds",
        "The loss window now: how long the server has held commits its archive lacks (0: every commit is archived), as the monitor measured it on its last pass",
    );
    let snapshot = gauge(
        &mut r,
        "instance_last_snapshot_age_seconds",
        "Age of the instance's newest snapshot",
    );
    let backup = gauge(
        &mut r,
        "instance_last_backup_age_seconds",
        "Age of the instance's newest backup in a repository",
    );
    let shipping = gauge(
        &mut r,
        "instance_log_shipping_lag_seconds",
        "Seconds since the newest commit its repository holds",
    );
    let drill = gauge(
        &mut r,
        "instance_last_drill_age_seconds",
        "Age of the instance's newest passing restore drill",
    );
    let host_up = gauge(
        &mut r,
        "host_up",
        "1 when the host answered the last time it was asked, else 0",
    );
    let host_rtt = gauge(
        &mut r,
        "host_rtt_seconds",
        "How long the host's last answer took",
    );
    let wfs = gauge(&mut r, "workflows", "Workflows by state");
    // Read once for the whole fleet, not once an instance.
    let all_snapshots = snapshots::list(conn, None)?;
    let all_backups = backups::list(conn)?;
    for i in instances::list_live(conn)? {
        let l = |extra: &[(&str, &str)]| -> Labels {
            let mut v = vec![("instance".to_string(), i.name.clone())];
            v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            v
        };
        let h = health::get(conn, i.id)?
            .filter(|_| !crate::catalog::instances::status::put_away(&i.status));
        if let Some(h) = &h {
            let up = h.state == health::state::HEALTHY || h.state == health::state::DEGRADED;
            healthy
                .get_or_create(&l(&[]))
                .set(if up { 1.0 } else { 0.0 });
            state.get_or_create(&l(&[("state", &h.state)])).set(1.0);
        }
        // Measured by the monitor's last pass: nothing at risk is 0, however long ago the
        // last commit was. Without a fresh measure (a server that cannot say what it last
        // committed), the age of the newest archived commit, as before.
        let fresh_within = 3.0 * ctx.config.monitor.interval_secs.max(1) as f64 + 60.0;
        let measured = crate::catalog::exposure::get(conn, i.id)?
            .filter(|e| age(Some(&e.checked_at), now).is_some_and(|a| a < fresh_within));
        let loss = match measured {
            Some(e) => Some(
                e.at_risk_since
                    .as_deref()
                    .and_then(|t| age(Some(t), now))
                    .unwrap_or(0.0),
            ),
            None => log_ranges::get(conn, i.id)?.and_then(|w| age(w.last_time.as_deref(), now)),
        };
        if let Some(a) = loss {
            restorable.get_or_create(&l(&[])).set(a);
        }
        // Its whole lineage: a recovered instance keeps the series of the one it replaced.
        let mut lineage = vec![i.id];
        while let Some(prev) = instances::replaces(conn, *lineage.last().unwrap_or(&i.id))? {
            if lineage.contains(&prev) || lineage.len() > 64 {
                break;
            }
            lineage.push(prev);
        }
        let newest = all_snapshots
            .iter()
            .filter(|s| {
                lineage.contains(&s.instance_id) && s.status == snapshots::status::AVAILABLE
            })
            .filter_map(|s| age(Some(&s.created_at), now))
            .reduce(f64::min);
        if let Some(a) = newest {
            snapshot.get_or_create(&l(&[])).set(a);
        }
        let newest_backup = all_backups
            .iter()
            .filter(|b| lineage.contains(&b.instance_id) && b.status == backups::status::AVAILABLE)
            .filter_map(|b| age(Some(&b.created_at), now))
            .reduce(f64::min);
        if let Some(a) = newest_backup {
            backup.get_or_create(&l(&[])).set(a);
        }
        if let Some(a) = crate::catalog::drills::latest(conn, &i.name)?
            .1
            .and_then(|d| age(d.finished_at.as_deref(), now))
        {
            drill.get_or_create(&l(&[])).set(a);
        }
        if let Some(lag) =
            crate::control::offsite::shipping::offsite(ctx, &i)?.and_then(|o| o.log_lag_secs)
        {
            shipping.get_or_create(&l(&[])).set(lag as f64);
        }
    }
    for h in hosts::list(conn)? {
        let (last, rtt) = hosts::contact(conn, h.id)?;
        let l = vec![("host".to_string(), h.name.clone())];
        // Answered within the last two monitor passes.
        let fresh = age(last.as_deref(), now)
            .is_some_and(|a| a < 2.0 * ctx.config.monitor.interval_secs.max(1) as f64 + 30.0);
        host_up.get_or_create(&l).set(if fresh { 1.0 } else { 0.0 });
        if let Some(ms) = rtt {
            host_rtt.get_or_create(&l).set(ms as f64 / 1000.0);
        }
    }
    for (s, n) in workflows::count_by_status(conn)? {
        wfs.get_or_create(&vec![("state".to_string(), s)])
            .set(n as f64);
    }
    let mut out = String::new();
    encode(&mut out, &r)?;
    Ok(out)
}

/// The address `[metrics] listen` names, which must be loopback.
///
/// # Errors
/// [`crate::control::base::error::Invalid`] for anything else.
pub fn check_listen(listen: &str) -> Result<std::net::SocketAddr> {
    let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
        crate::control::base::error::invalid(
            format!("[metrics] listen `{listen}` is not an address and port"),
            "give one such as 127.0.0.1:9187",
        )
    })?;
    if !addr.ip().is_loopback() {
        return Err(crate::control::base::error::invalid(
            format!("[metrics] listen `{listen}` is not a loopback address"),
            "the metrics name every instance and host: serve them on 127.0.0.1 (or ::1) and let a local Prometheus or proxy reach them",
        ));
    }
    Ok(addr)
}

/// Workers answering scrapes, and connections that may wait for one: a flood of
/// connections costs at most these, never a thread each.
const WORKERS: usize = 4;
const QUEUE: usize = 16;
/// The longest request head read, and how long a client may take to send it.
const MAX_HEAD: usize = 16 << 10;
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Binds the metrics address.
///
/// # Errors
/// The address is taken or cannot be bound.
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serves `render` at `/metrics` on `listener` until `stop` says so: GET and HEAD only, one
/// request per connection, answered by [`WORKERS`] threads from a queue of [`QUEUE`]
/// connections (one that finds the queue full is closed unanswered).
///
/// # Errors
/// Never for a request (a failing one gets a 500); kept for what a server may add.
pub fn serve_on(
    home: &crate::control::base::home::Home,
    listener: &std::net::TcpListener,
    stop: &dyn Fn() -> bool,
) -> Result<()> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::net::TcpStream>(QUEUE);
    let rx = std::sync::Mutex::new(rx);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                match next {
                    Ok(conn) => answer(home, conn),
                    Err(_) => break,
                }
            });
        }
        while !stop() {
            match listener.accept() {
                // A full queue drops the connection: it is closed as it goes.
                Ok((conn, _)) => drop(tx.try_send(conn)),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
        drop(tx);
    });
    Ok(())
}

/// Reads one request head from `conn` and answers it.
fn answer(home: &crate::control::base::home::Home, mut conn: std::net::TcpStream) {
    use std::io::Read;
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(READ_TIMEOUT));
    let _ = conn.set_write_timeout(Some(READ_TIMEOUT));
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let (method, path) = loop {
        let n = match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                break (
                    req.method.unwrap_or_default().to_string(),
                    req.path.unwrap_or_default().to_string(),
                )
            }
            Ok(httparse::Status::Partial) if head.len() <= MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return reply(&mut conn, 431, "Request Header Fields Too Large", "", false)
            }
            Err(_) => return reply(&mut conn, 400, "Bad Request", "bad request\n", false),
        }
    };
    let path = path.split('?').next().unwrap_or_default();
    let head_only = method == "HEAD";
    if path != "/metrics" {
        return reply(&mut conn, 404, "Not Found", "see /metrics\n", head_only);
    }
    if method != "GET" && !head_only {
        return reply(
            &mut conn,
            405,
            "Method Not Allowed",
            "GET or HEAD /metrics\n",
            false,
        );
    }
    match home.open().and_then(|ctx| render(&ctx)) {
        Ok(text) => reply(&mut conn, 200, "OK", &text, head_only),
        Err(e) => reply(
            &mut conn,
            500,
            "Internal Server Error",
            &format!("{e:#}\n"),
            head_only,
        ),
    }
}

fn reply(conn: &mut std::net::TcpStream, status: u16, reason: &str, body: &str, head_only: bool) {
    use std::io::Write;
    let kind = if status == 200 {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let allow = if status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    let _ = conn.write_all(&out);
    let _ = conn.flush();
}
