//! `tabchain-core`'s integration tests: conformance with data from outside the project.

mod asert_vectors;
mod bitcoin_headers;
mod data;
mod encoding;
mod properties;
mod protocol_doc;
mod regressions;
mod relay_load;
mod scenarios;
mod schedule;
mod signature_vectors;
mod sim;
mod snapshot_sync;
mod vectors;
