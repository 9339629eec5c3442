//! The relay's library half: everything the `tabchain` binary runs, split out so integration
//! tests can start real relays and nodes in-process on ephemeral ports.
//!
//! - [`driver`]: core's `Node` driven by tokio (outputs, persistence, events);
//! - [`peers`]: the registry of connected peers and their send queues, whose bytes
//!   [`queued_bytes`] counts; [`admission`]: the connection caps;
//! - [`connection`], [`ws`], [`client`]: WebSocket connections in and out; [`discovery`]: the
//!   relays dialled from gossip, one per [`address_group`];
//! - [`store`]: the chain on disk (redb), or in memory without a data directory;
//!   [`chain_index`]: its indexes by height, txid and address, which the API reads;
//!   [`miner`]: native mining threads;
//! - [`serve`] (the page built in by [`page`], or a folder), [`api`] (documented by [`openapi`], its parameters checked by [`api_params`]),
//!   [`metrics`]: the HTTP surface; [`accept`]: its connections (caps, header timeout); [`http_limits`]: the API's rate,
//!   concurrency, time and body limits; [`hosts`]: the `Host` allowlist; [`limits`]: every
//!   client limit; [`open_files`]: the open-file limit they need;
//! - [`app`]: assembling a relay or a headless node from options;
//! - [`hostile`]: attacks on a running relay, for the tests and `tabchain-hostile` (the soak);
//!   the relay never calls it.

pub mod accept;
pub mod address_group;
pub mod admission;
pub mod api;
pub mod api_params;
pub mod app;
pub mod backlog;
pub mod chain_index;
pub mod client;
pub mod connection;
pub mod discovery;
pub mod driver;
pub mod hostile;
pub mod hosts;
pub mod http_limits;
pub mod limits;
pub mod metrics;
pub mod miner;
pub mod open_files;
pub mod openapi;
pub mod page;
pub mod peers;
pub mod queued_bytes;
pub mod serve;
pub mod store;
pub mod ws;
