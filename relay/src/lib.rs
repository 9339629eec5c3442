//! The relay's library half: what the `tabchain` binary runs, split out so
//! integration tests can start a real server on an ephemeral port.
//!
//! Today the relay only serves the page (`www/`); relaying between browser
//! nodes will live beside [`serve`] as its own module.

pub mod serve;
