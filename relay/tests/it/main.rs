//! The relay's one integration-test binary: real relays and nodes on 127.0.0.1, real sockets,
//! every wait bounded.

mod api;
mod api_fuzz;
mod api_schema;
mod attacks;
mod dev_pages;
mod discovery;
mod disk;
mod http;
mod index;
mod json_schema;
mod limits;
mod links;
mod network;
mod page;
mod persistence;
mod schema_values;
mod serve;
mod support;
