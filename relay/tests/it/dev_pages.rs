//! The development pages (`www/dev/`): served with `--dev`, 404 without it, however the path
//! is spelled, from a `--www` folder and from the page built into the binary alike; the rest of
//! the page is served either way.

use crate::support::{TempDir, get, serve_site};
use std::net::SocketAddr;
use tabchain_relay::serve::Site;

const DEV_PAGE: &str = "<!doctype html><title>dev page</title>";

/// A relay serving a `www/` with a development page, its other files, and `dev` as given.
async fn relay(dir: &TempDir, dev: bool) -> SocketAddr {
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("dev")).expect("create www/dev");
    std::fs::write(www.join("index.html"), "<!doctype html><title>page</title>").expect("write index.html");
    std::fs::write(www.join("main.js"), "export {};\n").expect("write main.js");
    std::fs::write(www.join("devices.txt"), "not a development page").expect("write devices.txt");
    std::fs::write(www.join("dev/hasher.html"), DEV_PAGE).expect("write dev/hasher.html");
    std::fs::write(www.join("dev/index.html"), DEV_PAGE).expect("write dev/index.html");
    serve_site(Site { www: Some(www), dev }).await
}

/// `(path, status without --dev, status with --dev)`, for a folder and the built-in page alike
/// (both have `dev/hasher.html` and `main.js`).
const CASES: &[(&str, u16, u16)] = &[
    ("/dev/hasher.html", 404, 200),
    ("/dev/", 404, 200),
    ("/dev", 404, 307),
    ("/%64ev/hasher.html", 404, 200),
    ("/%64%65%76/hasher.html", 404, 200),
    ("//dev/hasher.html", 404, 200),
    ("/./dev/hasher.html", 404, 200),
    ("/main.js", 200, 200),
];

/// Checks `CASES` against a relay started without `--dev` and one started with it; returns the
/// development page the second served.
async fn check_cases(plain: SocketAddr, dev: SocketAddr) -> Vec<u8> {
    for &(path, without, with) in CASES {
        assert_eq!(get(plain, path, "").await.status, without, "{path} without --dev");
        assert_eq!(get(dev, path, "").await.status, with, "{path} with --dev");
    }
    assert_eq!(get(dev, "/dev", "").await.header("location"), Some("/dev/"));
    get(dev, "/dev/hasher.html", "").await.body
}

#[tokio::test]
async fn dev_pages_are_served_only_with_dev() {
    let (plain_dir, dev_dir) = (TempDir::new(), TempDir::new());
    let plain = relay(&plain_dir, false).await;
    let dev = relay(&dev_dir, true).await;
    assert_eq!(check_cases(plain, dev).await, DEV_PAGE.as_bytes());
    assert_eq!(get(plain, "/devices.txt", "").await.status, 200, "a name that starts with dev");
}

#[tokio::test]
async fn built_in_dev_pages_are_served_only_with_dev() {
    let plain = serve_site(Site { www: None, dev: false }).await;
    let dev = serve_site(Site { www: None, dev: true }).await;
    let hasher = std::fs::read(crate::page::www().join("dev/hasher.html")).expect("read www/dev/hasher.html");
    assert_eq!(check_cases(plain, dev).await, hasher);
}
