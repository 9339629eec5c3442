//! Every limit the relay enforces on clients, each a named default that the command line can
//! change.

use std::time::Duration;
use tabchain_core::{BLOCK_BYTES_MAX, MESSAGE_BYTES_MAX};

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
/// Plain HTTP connections (the page, the API, a WebSocket until its upgrade) open at once from
/// one IP address (IPv6: its /64). A browser opens at most 6 to one host, so this admits twenty
/// browsers behind one NAT at their busiest; one client cannot hold the relay's file descriptors.
/// More are closed as they are accepted.
pub const HTTP_CONNECTIONS_PER_IP_MAX: usize = 128;
/// Plain HTTP connections open at once, from everyone.
pub const HTTP_CONNECTIONS_MAX: usize = 10_000;
/// Bytes queued for one client before it counts as not reading and is dropped.
pub const SEND_QUEUE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Frames queued for one client before it is dropped.
pub const SEND_QUEUE_FRAMES_MAX: usize = 1024;
/// How long a closed connection keeps reading (and discarding) so its close frame arrives.
pub const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// How long one frame may take to write before the client is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Buffer sizes of each connection's socket, kept small so idle connections are cheap.
pub const WS_READ_BUFFER_BYTES: usize = 8 * 1024;
pub const WS_WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// Bytes queued for all clients together, so that a crowd of slow clients (each under
/// `SEND_QUEUE_BYTES_MAX`) cannot hold more of the relay's memory. When a frame does not fit, the
/// client with the fullest queue is dropped as not reading and its queue thrown away.
pub const QUEUED_BYTES_TOTAL_MAX: usize = 256 * 1024 * 1024;

/// How long a client has to send a request's line and headers, counted from when the relay starts
/// waiting for them (a new connection, or an idle one between requests): a connection that sends
/// them slowly, or not at all (slowloris), is closed after it.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an API request may take, its body included, before it is answered with 408.
pub const API_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of JSON around a submission's hex (`{"hex": "..."}` with some whitespace).
pub const API_BODY_JSON_OVERHEAD_BYTES: usize = 1024;
/// The largest API request body: the largest valid block as hex, in its JSON object.
pub const API_BODY_BYTES_MAX: usize = 2 * BLOCK_BYTES_MAX + API_BODY_JSON_OVERHEAD_BYTES;
/// API requests one client address (IPv6: its /64) may make per second, sustained, and in a burst;
/// more get 429.
pub const API_REQUESTS_PER_S_MAX: u32 = 20;
pub const API_REQUEST_BURST_MAX: u32 = 100;
/// API requests being answered at once, from everyone; more get 503 at once instead of queueing.
pub const API_REQUESTS_IN_FLIGHT_MAX: usize = 64;
/// How often the per-address request counters of addresses that went quiet are forgotten, so the
/// table holds only recent clients.
pub const API_RATE_FORGET_INTERVAL: Duration = Duration::from_secs(60);

const _: () = assert!(WS_MESSAGE_BYTES_MAX <= SEND_QUEUE_BYTES_MAX, "a largest message can be queued");
const _: () = assert!(SEND_QUEUE_BYTES_MAX <= QUEUED_BYTES_TOTAL_MAX, "one full queue fits in the total");
const _: () = assert!(API_BODY_BYTES_MAX >= 2 * BLOCK_BYTES_MAX, "a largest block can be submitted as hex");
const _: () = assert!(API_REQUESTS_PER_S_MAX > 0 && API_REQUEST_BURST_MAX >= API_REQUESTS_PER_S_MAX);

/// The limits in force.
#[derive(Debug, Clone)]
pub struct Limits {
    pub ws_message_bytes_max: usize,
    pub messages_per_s_max: u32,
    pub message_burst_max: u32,
    pub connections_per_ip_max: usize,
    pub connections_max: usize,
    pub http_connections_per_ip_max: usize,
    pub http_connections_max: usize,
    pub send_queue_bytes_max: usize,
    pub queued_bytes_total_max: usize,
    pub header_read_timeout: Duration,
    pub api_request_timeout: Duration,
    pub api_body_bytes_max: usize,
    pub api_requests_per_s_max: u32,
    pub api_request_burst_max: u32,
    pub api_requests_in_flight_max: usize,
    /// `Host` headers served besides the listen address and `localhost`/`127.0.0.1` with the
    /// listen port (`HOST` or `HOST:PORT`; `*` serves any, giving up the DNS-rebinding defence).
    pub allowed_hosts: Vec<String>,
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
            http_connections_per_ip_max: HTTP_CONNECTIONS_PER_IP_MAX,
            http_connections_max: HTTP_CONNECTIONS_MAX,
            send_queue_bytes_max: SEND_QUEUE_BYTES_MAX,
            queued_bytes_total_max: QUEUED_BYTES_TOTAL_MAX,
            header_read_timeout: HEADER_READ_TIMEOUT,
            api_request_timeout: API_REQUEST_TIMEOUT,
            api_body_bytes_max: API_BODY_BYTES_MAX,
            api_requests_per_s_max: API_REQUESTS_PER_S_MAX,
            api_request_burst_max: API_REQUEST_BURST_MAX,
            api_requests_in_flight_max: API_REQUESTS_IN_FLIGHT_MAX,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
        }
    }
}
