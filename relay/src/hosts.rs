//! The `Host` allowlist: every request, `/ws` included, must name this relay in its `Host`
//! header (the listen address, `localhost` or `127.0.0.1` with the listen port, or a name given
//! with `--allow-host`), or it gets 421. This closes DNS rebinding: a page on an attacker's domain
//! whose name is rebound to this relay's address still sends the attacker's name as `Host`, so it
//! can neither read the API nor pass `/ws`'s same-origin check, which compares `Origin` with
//! `Host`.

use crate::api::ApiError;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

/// The `Host` values served, lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    /// `*` was given: any `Host` is served.
    any: bool,
    hosts: BTreeSet<String>,
}

impl AllowedHosts {
    /// The listen address and the loopback names with its port (and without a port when it is
    /// 80), plus `extra`: each `HOST:PORT` as given, each bare `HOST` alone and with the port.
    pub fn new(listen: SocketAddr, extra: &[String]) -> Self {
        let port = listen.port();
        let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()];
        let mut hosts = BTreeSet::from([listen.to_string()]);
        for entry in extra {
            let entry = entry.trim().to_ascii_lowercase();
            if has_port(&entry) {
                hosts.insert(entry);
            } else {
                hosts.insert(entry.clone());
                names.push(entry);
            }
        }
        for name in names {
            hosts.insert(format!("{name}:{port}"));
            if port == 80 {
                hosts.insert(name);
            }
        }
        Self { any: extra.iter().any(|e| e.trim() == "*"), hosts }
    }

    pub fn allows(&self, host: &str) -> bool {
        self.any || self.hosts.contains(&host.to_ascii_lowercase())
    }
}

/// Whether `host` ends in `:PORT` (an IPv6 literal's colons are inside brackets).
fn has_port(host: &str) -> bool {
    let after_bracket = host.rsplit(']').next().unwrap_or(host);
    after_bracket.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok())
}

/// Middleware: passes requests whose `Host` (or, without one, the URI's authority) is allowed.
pub async fn check(State(allowed): State<Arc<AllowedHosts>>, request: Request, next: Next) -> Response {
    let host = match request.headers().get(header::HOST) {
        Some(value) => value.to_str().ok(),
        None => request.uri().authority().map(|a| a.as_str()),
    };
    match host {
        Some(host) if allowed.allows(host) => next.run(request).await,
        Some(_) => ApiError::new(StatusCode::MISDIRECTED_REQUEST, "host not allowed").into_response(),
        None => ApiError::new(StatusCode::MISDIRECTED_REQUEST, "no Host header").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(listen: &str, extra: &[&str], host: &str, expected: bool) {
        let extra: Vec<String> = extra.iter().map(|e| (*e).to_owned()).collect();
        let allowed = AllowedHosts::new(listen.parse().expect("an address"), &extra);
        assert_eq!(allowed.allows(host), expected, "{host} under {listen} + {extra:?}");
    }

    #[test]
    fn hosts_are_checked_against_the_listen_address_loopback_and_extra_names() {
        check("127.0.0.1:8080", &[], "127.0.0.1:8080", true);
        check("127.0.0.1:8080", &[], "LOCALHOST:8080", true);
        check("127.0.0.1:8080", &[], "[::1]:8080", true);
        check("127.0.0.1:8080", &[], "localhost", false);
        check("127.0.0.1:8080", &[], "localhost:8081", false);
        check("127.0.0.1:8080", &[], "evil.example:8080", false);
        check("127.0.0.1:8080", &[], "127.0.0.1.evil.example:8080", false);
        check("0.0.0.0:80", &[], "localhost", true);
        check("0.0.0.0:80", &[], "0.0.0.0:80", true);
        check("[::]:8080", &[], "[::]:8080", true);
        check("0.0.0.0:8080", &["relay.example"], "relay.example", true);
        check("0.0.0.0:8080", &["relay.example"], "relay.example:8080", true);
        check("0.0.0.0:8080", &["relay.example"], "relay.example:9000", false);
        check("0.0.0.0:8080", &["relay.example:443"], "relay.example:443", true);
        check("0.0.0.0:8080", &["relay.example:443"], "relay.example", false);
        check("0.0.0.0:8080", &["[2001:db8::1]:8443"], "[2001:db8::1]:8443", true);
        check("0.0.0.0:8080", &["*"], "anything.example", true);
    }
}
