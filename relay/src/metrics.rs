//! Counters and gauges, rendered in the Prometheus text format at `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Relay-wide counters. Gauges about the chain are read from the node when rendering.
#[derive(Debug, Default)]
pub struct Metrics {
    pub connections_accepted: AtomicU64,
    pub connections_refused: AtomicU64,
    pub http_connections_refused: AtomicU64,
    pub messages_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_out: AtomicU64,
    pub disconnects_misbehaving: AtomicU64,
    pub disconnects_slow: AtomicU64,
    pub disconnects_memory: AtomicU64,
    pub disconnects_oversize: AtomicU64,
    pub disconnects_rate: AtomicU64,
    pub blocks_mined: AtomicU64,
    pub store_out_of_space: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The text exposition, with the chain gauges given by the caller.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let counters = [
            ("tabchain_connections_accepted_total", "WebSocket connections accepted", &self.connections_accepted),
            (
                "tabchain_connections_refused_total",
                "WebSocket upgrades refused (caps, origin)",
                &self.connections_refused,
            ),
            (
                "tabchain_http_connections_refused_total",
                "HTTP connections closed as accepted, over the per-address or total cap",
                &self.http_connections_refused,
            ),
            ("tabchain_messages_in_total", "protocol messages received", &self.messages_in),
            ("tabchain_bytes_in_total", "protocol bytes received", &self.bytes_in),
            ("tabchain_messages_out_total", "protocol messages queued to peers", &self.messages_out),
            ("tabchain_bytes_out_total", "protocol bytes queued to peers", &self.bytes_out),
            ("tabchain_disconnects_misbehaving_total", "peers dropped for invalid data", &self.disconnects_misbehaving),
            ("tabchain_disconnects_slow_total", "peers dropped for not reading", &self.disconnects_slow),
            (
                "tabchain_disconnects_memory_total",
                "of those, dropped because the bytes queued for all peers reached their cap",
                &self.disconnects_memory,
            ),
            ("tabchain_disconnects_oversize_total", "peers dropped for oversize messages", &self.disconnects_oversize),
            ("tabchain_disconnects_rate_total", "peers dropped for exceeding the message rate", &self.disconnects_rate),
            ("tabchain_blocks_mined_total", "blocks found by this relay's miner", &self.blocks_mined),
            ("tabchain_store_out_of_space_total", "times a write found the disk full", &self.store_out_of_space),
        ];
        let mut out = String::new();
        for (name, help, counter) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                counter.load(Ordering::Relaxed)
            ));
        }
        for (name, help, value) in gauges {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"));
        }
        out
    }
}
