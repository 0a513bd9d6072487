//! Choosing and checking the TCP ports instances listen on.

use std::net::TcpListener;

/// Whether nothing listens on `port` at `bind_address` now.
pub fn is_free(bind_address: &str, port: u16) -> bool {
    TcpListener::bind((bind_address, port)).is_ok()
}

/// The first port in `range` that no instance on this host has reserved and nothing listens on.
pub fn pick(bind_address: &str, range: [u16; 2], reserved: &[u16]) -> Option<u16> {
    (range[0]..=range[1]).find(|p| !reserved.contains(p) && is_free(bind_address, *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_reserved_and_busy_ports() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let busy = l.local_addr().unwrap().port();
        assert!(!is_free("127.0.0.1", busy));
        let p = pick("127.0.0.1", [busy, busy.saturating_add(3)], &[busy + 1]).unwrap();
        assert!(p != busy && p != busy + 1);
    }
}
