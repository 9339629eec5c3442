//! The development pages (`www/dev/`): served with `--dev`, 404 without it, however the path
//! is spelled; the rest of the page is served either way.

use crate::support::{TempDir, get};
use std::net::SocketAddr;
use tabchain_relay::app::{self, Network, NodeOptions};
use tabchain_relay::limits::Limits;
use tabchain_relay::serve::{self, Site};
use tokio::net::TcpListener;

const DEV_PAGE: &str = "<!doctype html><title>dev page</title>";

/// A relay serving a `www/` with a development page, its other files, and `dev` as given.
async fn relay(dir: &TempDir, dev: bool) -> SocketAddr {
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("dev")).expect("create www/dev");
    std::fs::write(www.join("index.html"), "<!doctype html><title>page</title>").expect("write index.html");
    std::fs::write(www.join("devices.txt"), "not a development page").expect("write devices.txt");
    std::fs::write(www.join("dev/hasher.html"), DEV_PAGE).expect("write dev/hasher.html");
    std::fs::write(www.join("dev/index.html"), DEV_PAGE).expect("write dev/index.html");
    let options = NodeOptions {
        network: Network::Regtest,
        data: None,
        peers: Vec::new(),
        mine_threads: 0,
        limits: Limits::default(),
    };
    let started = app::start_node(&options, "test-relay").expect("start the relay's node");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let site = Site { dir: www, dev };
    tokio::spawn(async move { serve::run(listener, site, started.driver, std::future::pending()).await });
    addr
}

/// `(path, status without --dev, status with --dev)`.
const CASES: &[(&str, u16, u16)] = &[
    ("/dev/hasher.html", 404, 200),
    ("/dev/", 404, 200),
    ("/dev", 404, 307),
    ("/%64ev/hasher.html", 404, 200),
    ("/%64%65%76/hasher.html", 404, 200),
    ("//dev/hasher.html", 404, 200),
    ("/./dev/hasher.html", 404, 200),
    ("/index.html", 200, 200),
    ("/devices.txt", 200, 200),
];

#[tokio::test]
async fn dev_pages_are_served_only_with_dev() {
    let (plain_dir, dev_dir) = (TempDir::new(), TempDir::new());
    let plain = relay(&plain_dir, false).await;
    let dev = relay(&dev_dir, true).await;
    for &(path, without, with) in CASES {
        assert_eq!(get(plain, path, "").await.status, without, "{path} without --dev");
        assert_eq!(get(dev, path, "").await.status, with, "{path} with --dev");
    }
    assert_eq!(get(dev, "/dev/hasher.html", "").await.body, DEV_PAGE.as_bytes());
}
