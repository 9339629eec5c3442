//! The relay's library half: everything the `tabchain` binary runs, split out so integration
//! tests can start real relays and nodes in-process on ephemeral ports.
//!
//! - [`driver`]: core's `Node` driven by tokio (outputs, persistence, events);
//! - [`peers`]: the registry of connected peers and their send queues; [`admission`]: the
//!   connection caps;
//! - [`connection`], [`ws`], [`client`]: WebSocket connections in and out;
//! - [`store`]: the chain on disk (redb); [`miner`]: native mining threads;
//! - [`serve`], [`api`], [`metrics`]: the HTTP surface; [`limits`]: every client limit;
//! - [`app`]: assembling a relay or a headless node from options.

pub mod admission;
pub mod api;
pub mod app;
pub mod client;
pub mod connection;
pub mod driver;
pub mod limits;
pub mod metrics;
pub mod miner;
pub mod peers;
pub mod serve;
pub mod store;
pub mod ws;
