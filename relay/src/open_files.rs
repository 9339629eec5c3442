//! The process's open-file limit. Each connection is a file descriptor; the soft limit is often
//! 1,024, far below the connection caps (`Limits`), and a relay that runs out refuses everyone
//! while `accept` fails. Startup raises it to the hard limit and warns if even that cannot hold
//! every connection the caps allow.

use crate::limits::Limits;

/// Descriptors the relay holds besides its connections: the store, the listener, outbound dials,
/// logs.
pub const FILES_BESIDES_CONNECTIONS: u64 = 64;

/// Raises the soft open-file limit to the hard one; returns the limit now in force (`u64::MAX`
/// for none).
#[cfg(unix)]
pub fn raise_to_hard_limit() -> std::io::Result<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(Resource::Nofile, rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum })?;
    }
    Ok(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

#[cfg(not(unix))]
pub fn raise_to_hard_limit() -> std::io::Result<u64> {
    Ok(u64::MAX)
}

/// Descriptors the caps in `limits` may need at once.
pub fn needed(limits: &Limits) -> u64 {
    (limits.connections_max + limits.http_connections_max) as u64 + FILES_BESIDES_CONNECTIONS
}

/// The warning to give when `available` descriptors cannot hold what `limits` allow.
pub fn shortfall(available: u64, limits: &Limits) -> Option<String> {
    let needed = needed(limits);
    (available < needed).then(|| {
        format!(
            "the open-file limit is {available}, below the {needed} the connection caps may need: past it new \
             connections fail; raise it (ulimit -n, LimitNOFILE=) or lower --max-connections and --max-http-connections"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let limit = raise_to_hard_limit().expect("raising a soft limit to the hard one is always allowed");
        #[cfg(unix)]
        assert_eq!(
            Some(limit),
            rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum.or(Some(u64::MAX))
        );
        assert!(limit > 0);
    }

    #[test]
    fn a_limit_below_the_caps_is_named_with_what_they_need() {
        let limits = Limits { connections_max: 1_000, http_connections_max: 500, ..Limits::default() };
        assert_eq!(needed(&limits), 1_564);
        assert_eq!(shortfall(1_564, &limits), None);
        let warning = shortfall(1_024, &limits).expect("short");
        assert!(
            warning.starts_with("the open-file limit is 1024, below the 1564 the connection caps may need"),
            "{warning}"
        );
    }
}
