//! Address groups: which relay addresses likely sit in one operator's hands. Outbound peers are
//! dialled in different groups, so one operator (one /16 of IPv4, one /32 of IPv6, one domain)
//! cannot fill a relay's view of the network with its own nodes, as Bitcoin Core's groups do.

use axum::http::Uri;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The group of a relay address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressGroup {
    /// Loopback, private and link-local addresses and `localhost`: one group, as all of them
    /// could be one machine or one local network.
    Local,
    /// The first 16 bits of a public IPv4 address (also for IPv4 mapped into IPv6).
    Ipv4 { prefix: [u8; 2] },
    /// The first 32 bits of a public IPv6 address.
    Ipv6 { prefix: [u8; 4] },
    /// A host name's last two labels, lower case (`relay.example.org` → `example.org`).
    Domain(String),
}

impl AddressGroup {
    /// The group of a `ws://` or `wss://` URL's host; `None` if the URL has no host.
    pub fn of_url(url: &str) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        let host = uri.host()?;
        let bracketless = host.trim_start_matches('[').trim_end_matches(']');
        Some(match bracketless.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => Self::of_ipv4(ip),
            Ok(IpAddr::V6(ip)) => ip.to_ipv4_mapped().map_or_else(|| Self::of_ipv6(ip), Self::of_ipv4),
            Err(_) => Self::of_name(host),
        })
    }

    fn of_ipv4(ip: Ipv4Addr) -> Self {
        if ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() {
            return Self::Local;
        }
        let [a, b, _, _] = ip.octets();
        Self::Ipv4 { prefix: [a, b] }
    }

    fn of_ipv6(ip: Ipv6Addr) -> Self {
        let segments = ip.segments();
        let unique_local = segments[0] & 0xfe00 == 0xfc00;
        let link_local = segments[0] & 0xffc0 == 0xfe80;
        if ip.is_loopback() || ip.is_unspecified() || unique_local || link_local {
            return Self::Local;
        }
        let [a, b, c, d, ..] = ip.octets();
        Self::Ipv6 { prefix: [a, b, c, d] }
    }

    fn of_name(host: &str) -> Self {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host == "localhost" || host.ends_with(".localhost") {
            return Self::Local;
        }
        let labels: Vec<&str> = host.rsplitn(3, '.').collect();
        let domain = match labels.as_slice() {
            [tld, name, ..] => format!("{name}.{tld}"),
            _ => host,
        };
        Self::Domain(domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(url: &str) -> AddressGroup {
        AddressGroup::of_url(url).unwrap_or_else(|| panic!("{url} has a host"))
    }

    #[test]
    fn addresses_of_one_operator_share_a_group_and_others_do_not() {
        assert_eq!(group("ws://203.0.113.7:8080/ws"), AddressGroup::Ipv4 { prefix: [203, 0] });
        assert_eq!(group("ws://203.0.200.1/ws"), group("wss://203.0.113.7/ws"), "one /16");
        assert_ne!(group("ws://203.1.113.7/ws"), group("ws://203.0.113.7/ws"));
        assert_eq!(group("ws://[2001:db8:1:2::1]:8080/ws"), AddressGroup::Ipv6 { prefix: [0x20, 0x01, 0x0d, 0xb8] });
        assert_eq!(group("ws://[2001:db8:ffff::1]/ws"), group("ws://[2001:db8:1::9]/ws"), "one /32");
        assert_eq!(group("ws://[::ffff:203.0.113.7]/ws"), group("ws://203.0.9.9/ws"), "mapped IPv4 is IPv4");
        assert_eq!(group("wss://a.relay.Example.org./ws"), AddressGroup::Domain("example.org".into()));
        assert_eq!(group("wss://b.example.org/ws"), group("wss://example.org/ws"));
        assert_ne!(group("wss://example.org/ws"), group("wss://example.net/ws"));
    }

    #[test]
    fn local_addresses_are_one_group() {
        for url in [
            "ws://127.0.0.1:8080/ws",
            "ws://127.0.0.2:9000/ws",
            "ws://10.1.2.3/ws",
            "ws://192.168.0.5/ws",
            "ws://[::1]:8080/ws",
            "ws://[fd00::1]/ws",
            "ws://localhost:8080/ws",
        ] {
            assert_eq!(group(url), AddressGroup::Local, "{url}");
        }
        assert_eq!(AddressGroup::of_url("not a url"), None);
    }
}
