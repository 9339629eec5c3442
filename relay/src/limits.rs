//! Every limit the relay enforces on clients, each a named default that the command line can
//! change.

use std::time::Duration;
use tabchain_core::MESSAGE_BYTES_MAX;

/// Largest WebSocket message (and frame) accepted: the largest valid protocol message.
pub const WS_MESSAGE_BYTES_MAX: usize = MESSAGE_BYTES_MAX;
/// Messages a connection may send per second, sustained, and in a burst (enforced by the node,
/// which does not count answers to its own requests): core's defaults.
pub const MESSAGES_PER_S_MAX: u32 = tabchain_core::MESSAGES_PER_S_MAX as u32;
pub const MESSAGE_BURST_MAX: u32 = tabchain_core::MESSAGE_BURST_MAX as u32;
/// Connections from one IP address.
pub const CONNECTIONS_PER_IP_MAX: usize = 64;
/// Connections in all.
pub const CONNECTIONS_MAX: usize = 20_000;
/// Bytes queued for one client before it counts as not reading and is dropped.
pub const SEND_QUEUE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Frames queued for one client before it is dropped.
pub const SEND_QUEUE_FRAMES_MAX: usize = 1024;
/// How long one frame may take to write before the client is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Buffer sizes of each connection's socket, kept small so idle connections are cheap.
pub const WS_READ_BUFFER_BYTES: usize = 8 * 1024;
pub const WS_WRITE_BUFFER_BYTES: usize = 8 * 1024;

const _: () = assert!(WS_MESSAGE_BYTES_MAX <= SEND_QUEUE_BYTES_MAX, "a largest message can be queued");

/// The limits in force.
#[derive(Debug, Clone)]
pub struct Limits {
    pub ws_message_bytes_max: usize,
    pub messages_per_s_max: u32,
    pub message_burst_max: u32,
    pub connections_per_ip_max: usize,
    pub connections_max: usize,
    pub send_queue_bytes_max: usize,
    /// Origins allowed to open `/ws` (`*` allows any); none means the page's own origin only.
    /// Clients that send no `Origin` (native nodes) are always allowed.
    pub allowed_origins: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            ws_message_bytes_max: WS_MESSAGE_BYTES_MAX,
            messages_per_s_max: MESSAGES_PER_S_MAX,
            message_burst_max: MESSAGE_BURST_MAX,
            connections_per_ip_max: CONNECTIONS_PER_IP_MAX,
            connections_max: CONNECTIONS_MAX,
            send_queue_bytes_max: SEND_QUEUE_BYTES_MAX,
            allowed_origins: Vec::new(),
        }
    }
}
