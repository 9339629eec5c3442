//! The page built into the binary (`tabchain_relay::page`), served without `--www`: every file
//! of `www/` as it is on disk, with its MIME type, its gzip and brotli forms decompressing to
//! the file, `ETag` and `304`; a binary built without the wasm bundles says how to build them;
//! `--www` (and `TABCHAIN_WWW`) serves its folder instead; and the binary itself, started from
//! an empty folder, serves its page (and refuses a missing `--www` folder before saying it
//! serves anything).

use crate::support::{TempDir, get, serve_site};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tabchain_relay::page;
use tabchain_relay::serve::Site;

/// The page's folder in this source tree: what the relay under test embedded when it was built.
pub fn www() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")
}

/// Every file under `www/`, as the name a browser asks for (`pkg/tabchain_web.js`).
fn files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read www") {
        let entry = entry.expect("a www entry");
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().expect("file type").is_dir() {
            files(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

/// The `Content-Type` a browser needs for each kind of file the page has.
fn mime(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain",
        other => panic!("www/{name}: a kind of file ({other:?}) this test does not know"),
    }
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body).read_to_end(&mut out).expect("a gzip body");
    out
}

fn unbrotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::Decompressor::new(body, 4096).read_to_end(&mut out).expect("a brotli body");
    out
}

#[tokio::test]
async fn every_file_of_www_is_served_from_the_binary_with_its_type() {
    let addr = serve_site(Site::default()).await;
    let mut names = Vec::new();
    files(&www(), "", &mut names);
    assert_eq!(page::is_built(), page::BUNDLES.iter().all(|b| names.iter().any(|n| n == b)), "built in iff on disk");
    let served = names.iter().filter(|n| !n.ends_with(".d.ts") && !n.starts_with("dev/"));
    for name in served.filter(|n| page::is_built() || *n != "index.html") {
        let response = get(addr, &format!("/{name}"), "").await;
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.header("content-type"), Some(mime(name)), "{name}");
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{name}");
        assert!(response.header("etag").is_some_and(|tag| tag.starts_with('"')), "{name}: a strong ETag");
        assert_eq!(response.header("content-encoding"), None, "{name}: not asked to compress");
        let file = std::fs::read(www().join(name)).expect("read the file");
        assert!(response.body == file, "www/{name}: the body served is the file");
    }
    if page::is_built() {
        let index = get(addr, "/", "").await;
        assert_eq!(index.body, std::fs::read(www().join("index.html")).expect("read index.html"));
    } else {
        // A fresh clone's `cargo test` compiled the relay before `cargo xtask build`.
        let index = get(addr, "/", "").await;
        assert_eq!(index.status, 503);
        let text = String::from_utf8_lossy(&index.body);
        assert!(text.contains("cargo xtask build") && text.contains("not built"), "{text}");
    }
    assert_eq!(get(addr, "/index.d.ts", "").await.status, 404);
    assert_eq!(get(addr, "/pkg/tabchain_web.d.ts", "").await.status, 404, "declarations are left out");
    assert_eq!(get(addr, "/no-such-file.js", "").await.status, 404);
    assert_eq!(get(addr, "/../Cargo.toml", "").await.status, 404);
}

/// `(Accept-Encoding, the coding served)`: brotli before gzip, `q=0` refuses.
const CODINGS: &[(&str, Option<&str>)] = &[
    ("", None),
    ("Accept-Encoding: gzip\r\n", Some("gzip")),
    ("Accept-Encoding: br\r\n", Some("br")),
    ("Accept-Encoding: gzip, deflate, br, zstd\r\n", Some("br")),
    ("Accept-Encoding: br;q=0, gzip\r\n", Some("gzip")),
    ("Accept-Encoding: *\r\n", Some("br")),
    ("Accept-Encoding: identity\r\n", None),
];

#[tokio::test]
async fn compressed_forms_decompress_to_the_file() {
    let addr = serve_site(Site::default()).await;
    let mut names = vec!["main.js", "style.css"];
    if page::is_built() {
        names.extend([
            "index.html",
            "pkg/tabchain_web_bg.wasm",
            "pkg-scalar/tabchain_web_bg.wasm",
            "pkg/tabchain_web.js",
            "pkg/tabchain_web_miner_bg.wasm",
        ]);
    }
    for name in names {
        let file = std::fs::read(www().join(name)).expect("read the file");
        for &(accept, coding) in CODINGS {
            let response = get(addr, &format!("/{name}"), accept).await;
            assert_eq!(response.status, 200, "{name} {accept:?}");
            assert_eq!(response.header("content-encoding"), coding, "{name} {accept:?}");
            assert_eq!(response.header("vary"), Some("accept-encoding"), "{name}");
            assert_eq!(response.header("content-type"), Some(mime(name)), "{name}");
            let body = match coding {
                Some("gzip") => gunzip(&response.body),
                Some(_) => unbrotli(&response.body),
                None => response.body.clone(),
            };
            assert!(body == file, "{name} {accept:?}: decompresses to the file");
            if coding.is_some() {
                assert!(response.body.len() < file.len() * 95 / 100, "{name} {accept:?}: smaller than the file");
            }
        }
    }
}

#[tokio::test]
async fn etag_revalidates_each_form_with_304() {
    let addr = serve_site(Site::default()).await;
    let plain = get(addr, "/main.js", "").await;
    let gzip = get(addr, "/main.js", "Accept-Encoding: gzip\r\n").await;
    let brotli = get(addr, "/main.js", "Accept-Encoding: br\r\n").await;
    let tags = [&plain, &gzip, &brotli].map(|r| r.header("etag").expect("an ETag").to_owned());
    assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2], "one tag per form: {tags:?}");
    assert_eq!(get(addr, "/main.js", "").await.header("etag"), Some(tags[0].as_str()), "a tag is stable");

    for (accept, tag) in
        [("", &tags[0]), ("Accept-Encoding: gzip\r\n", &tags[1]), ("Accept-Encoding: br\r\n", &tags[2])]
    {
        let unchanged = get(addr, "/main.js", &format!("{accept}If-None-Match: {tag}\r\n")).await;
        assert_eq!(unchanged.status, 304, "{accept:?}");
        assert!(unchanged.body.is_empty());
        assert_eq!(unchanged.header("etag"), Some(tag.as_str()));
        assert_eq!(unchanged.header("cache-control"), Some("no-cache"));
        assert_eq!(unchanged.header("content-encoding"), None, "{accept:?}: nothing compressed into a 304");
        let listed = get(addr, "/main.js", &format!("{accept}If-None-Match: \"other\", {tag}\r\n")).await;
        assert_eq!(listed.status, 304, "{accept:?}: one of a list");
    }
    // Another file's tag, or another form's, is a change: the whole body comes back.
    let other = get(addr, "/style.css", "").await.header("etag").expect("an ETag").to_owned();
    assert_eq!(get(addr, "/main.js", &format!("If-None-Match: {other}\r\n")).await.status, 200);
    let changed = get(addr, "/main.js", &format!("Accept-Encoding: gzip\r\nIf-None-Match: {}\r\n", tags[0])).await;
    assert_eq!((changed.status, changed.header("content-encoding")), (200, Some("gzip")));
    assert_eq!(get(addr, "/main.js", "If-None-Match: *\r\n").await.status, 304);
}

const DISK_INDEX: &[u8] = b"<!doctype html><title>from disk</title>";
const DISK_MAIN_JS: &[u8] = b"export const fromDisk = true;\n";

/// A `www` folder in `dir` with an `index.html` and a `main.js` of its own, and nothing else.
fn folder_on_disk(dir: &TempDir) -> PathBuf {
    let folder = dir.path().join("www");
    std::fs::create_dir_all(&folder).expect("create www");
    std::fs::write(folder.join("index.html"), DISK_INDEX).expect("write index.html");
    std::fs::write(folder.join("main.js"), DISK_MAIN_JS).expect("write main.js");
    folder
}

#[tokio::test]
async fn a_www_folder_overrides_the_built_in_page() {
    let dir = TempDir::new();
    let addr = serve_site(Site { www: Some(folder_on_disk(&dir)), dev: false }).await;
    assert_eq!(get(addr, "/", "").await.body, DISK_INDEX);
    assert_eq!(get(addr, "/main.js", "").await.body, DISK_MAIN_JS);
    // Nothing comes from the binary: a file only it has is missing.
    assert_eq!(get(addr, "/style.css", "").await.status, 404);
}

/// The binary started from an empty folder, with `TABCHAIN_WWW` unset and `args`.
fn tabchain(cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tabchain"));
    command
        .current_dir(cwd)
        .args(["serve", "--network", "regtest", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("TABCHAIN_WWW")
        .env("NO_COLOR", "1");
    command
}

/// Starts `command` and reads its startup line; returns the child, the line and the address in it.
async fn started(mut command: Command) -> (std::process::Child, String, Option<std::net::SocketAddr>) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start tabchain");
    let stdout = child.stdout.take().expect("piped");
    let line = tokio::task::spawn_blocking(move || BufReader::new(stdout).lines().next())
        .await
        .expect("read stdout")
        .and_then(Result::ok)
        .unwrap_or_default();
    let addr = line.split("http://").nth(1).and_then(|rest| rest.trim_end_matches('/').parse().ok());
    (child, line, addr)
}

/// GETs `path` from the binary `command` starts, then stops it; returns the startup line and
/// the body.
async fn fetch_from(command: Command, path: &str) -> (String, Vec<u8>) {
    let (mut child, line, addr) = started(command).await;
    let body = match addr {
        Some(addr) => get(addr, path, "").await.body,
        None => Vec::new(),
    };
    let _ = child.kill();
    let _ = child.wait();
    (line, body)
}

#[tokio::test]
async fn the_binary_serves_its_page_from_any_folder() {
    let dir = TempDir::new();
    let (line, body) = fetch_from(tabchain(dir.path(), &[]), "/main.js").await;
    assert!(line.starts_with("tabchain: serving the built-in page"), "{line}");
    assert_eq!(body, std::fs::read(www().join("main.js")).expect("read main.js"));
    assert_eq!(std::fs::read_dir(dir.path()).expect("read the folder").count(), 1, "only its data folder");
}

#[tokio::test]
async fn tabchain_www_makes_the_binary_serve_a_folder() {
    let dir = TempDir::new();
    let folder = folder_on_disk(&dir);
    let mut command = tabchain(dir.path(), &[]);
    command.env("TABCHAIN_WWW", &folder);
    let (line, body) = fetch_from(command, "/main.js").await;
    assert!(line.starts_with(&format!("tabchain: serving {} at", folder.display())), "{line}");
    assert_eq!(body, DISK_MAIN_JS);
}

#[test]
fn a_missing_www_folder_stops_the_binary_before_it_serves() {
    let dir = TempDir::new();
    let output = tabchain(dir.path(), &["--www", "no-such-folder"]).output().expect("run tabchain");
    assert!(!output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "", "no 'serving' line");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("www folder no-such-folder is not a folder"), "{stderr}");
}
