//! The page built into the binary (`tabchain_relay_page`, which says how it is embedded),
//! served over HTTP when no `--www` folder is given: each file in the best coding the client
//! accepts (brotli, then gzip, both made while compiling), with its MIME type.
//!
//! Caching: nothing the page loads has a content hash in its name (wasm-bindgen's glue fetches
//! `tabchain_web_bg.wasm` by that name), so every file is `no-cache` with a strong `ETag` of its
//! content and coding: a browser revalidates on each load and gets `304` until the relay is
//! rebuilt, and never runs a stale wasm module against new glue.
//!
//! A binary built before the bundles (a fresh clone's `cargo test`) serves, at `/`, a page that
//! says how to build them instead of a page that cannot start.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
pub use tabchain_relay_page::{BUNDLES, is_built};
use tabchain_relay_page::{EmbedableFile, EmbeddedFile};

/// The page a binary built without its bundles serves at `/`.
const UNBUILT_HTML: &str = include_str!("unbuilt.html");

/// A content coding the relay has a file in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value and the suffix that tells this form's `ETag` apart.
    fn name(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }
}

/// Answers a request for the page's files: the fallback of `serve`'s router.
pub(crate) async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")]).into_response();
    }
    let Some(name) = file_name(uri.path()) else { return StatusCode::NOT_FOUND.into_response() };
    if name == "index.html" && !is_built() {
        return unbuilt();
    }
    match tabchain_relay_page::file(&name) {
        Some(file) => respond(&file, &headers),
        // A folder named without its slash, as `ServeDir` answers it.
        None if tabchain_relay_page::file(&format!("{name}/index.html")).is_some() => {
            let location = format!("{}/", uri.path());
            (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)]).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The embedded name `path` asks for (`index.html` for a folder), read as `ServeDir` reads a
/// path (`serve::path_segments`); `None` for a `..` segment or one that is not UTF-8.
fn file_name(path: &str) -> Option<String> {
    let mut segments = Vec::new();
    for segment in crate::serve::path_segments(path) {
        let segment = String::from_utf8(segment).ok()?;
        if segment == ".." {
            return None;
        }
        segments.push(segment);
    }
    if path.ends_with('/') || segments.is_empty() {
        segments.push("index.html".to_owned());
    }
    Some(segments.join("/"))
}

/// `file` in the best coding the client accepts, or `304` if it already holds that form.
fn respond(file: &EmbeddedFile, request: &HeaderMap) -> Response {
    let accepted = accepted_codings(request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or(""));
    let (coding, body) = [(Coding::Brotli, file.data_br()), (Coding::Gzip, file.data_gzip())]
        .into_iter()
        .find_map(|(coding, body)| body.filter(|_| accepted.contains(&coding)).map(|body| (coding, body)))
        .unwrap_or((Coding::Identity, file.data()));
    let etag = match coding.name() {
        None => file.etag().to_owned(),
        Some(name) => format!("\"{}.{name}\"", file.hash()),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if file.data_br().is_some() || file.data_gzip().is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    // base85 is visible ASCII without `"`, so the tag is a valid header value.
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("an ETag of visible ASCII"));
    let if_none_match = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*")) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let mime = file.mime_type().unwrap_or("application/octet-stream");
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Some(name) = coding.name() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    }
    (headers, body).into_response()
}

/// The codings an `Accept-Encoding` value allows besides identity, best first: each named with
/// a non-zero `q`, and through `*` those it does not name.
fn accepted_codings(accept_encoding: &str) -> Vec<Coding> {
    let mut named = Vec::new();
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|param| {
            let param = param.trim();
            param.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        named.push((token, !refused));
    }
    let allows = |name: &str| match named.iter().find(|(token, _)| token == name) {
        Some(&(_, allowed)) => allowed,
        None => named.iter().any(|(token, allowed)| token == "*" && *allowed),
    };
    [Coding::Brotli, Coding::Gzip].into_iter().filter(|coding| coding.name().is_some_and(allows)).collect()
}

/// The page that says how to build the missing bundles (`503`: the relay works, its page not).
fn unbuilt() -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (StatusCode::SERVICE_UNAVAILABLE, headers, UNBUILT_HTML).into_response()
}

#[cfg(test)]
mod tests {
    use super::{Coding, accepted_codings, file_name};

    fn check_codings(accept_encoding: &str, expected: &[Coding]) {
        assert_eq!(accepted_codings(accept_encoding), expected, "{accept_encoding:?}");
    }

    #[test]
    fn accept_encoding() {
        use Coding::{Brotli, Gzip};
        check_codings("", &[]);
        check_codings("gzip", &[Gzip]);
        check_codings("gzip, deflate, br, zstd", &[Brotli, Gzip]);
        check_codings("GZIP;q=0.5, Br;q=1.0", &[Brotli, Gzip]);
        check_codings("br;q=0, gzip", &[Gzip]);
        check_codings("gzip; q=0.000", &[]);
        check_codings("*", &[Brotli, Gzip]);
        check_codings("*, br;q=0", &[Gzip]);
        check_codings("*;q=0, gzip", &[Gzip]);
        check_codings("identity", &[]);
    }

    fn check_name(path: &str, expected: Option<&str>) {
        assert_eq!(file_name(path).as_deref(), expected, "{path:?}");
    }

    #[test]
    fn file_names() {
        check_name("/", Some("index.html"));
        check_name("/index.html", Some("index.html"));
        check_name("/pkg/tabchain_web.js", Some("pkg/tabchain_web.js"));
        check_name("//pkg/./tabchain_web.js", Some("pkg/tabchain_web.js"));
        check_name("/%70kg/tabchain_web.js", Some("pkg/tabchain_web.js"));
        check_name("/dev/", Some("dev/index.html"));
        check_name("/dev", Some("dev"));
        check_name("/pkg/../index.html", None);
        check_name("/%2e%2e/Cargo.toml", None);
        check_name("/%ff", None);
    }
}
