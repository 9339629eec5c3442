//! Admission of new connections under the per-address and global caps. An admitted connection
//! holds a `Slot`, which gives its place back when dropped, so a failed upgrade or a connection
//! task that ends in any way always releases it. IPv6 addresses count by their /64 prefix, the
//! block one host usually gets.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyConnections,
    TooManyFromThisAddress,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TooManyConnections => "too many connections",
            Self::TooManyFromThisAddress => "too many connections from this address",
        })
    }
}

/// Open connections per address group, under caps.
#[derive(Debug)]
pub struct Admission {
    per_group: Mutex<HashMap<IpAddr, usize>>,
    per_group_max: usize,
    total_max: usize,
}

/// An admitted connection's place; released on drop.
#[derive(Debug)]
pub struct Slot {
    admission: Arc<Admission>,
    group: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_group = self.admission.lock();
        if let Some(count) = per_group.get_mut(&self.group) {
            *count -= 1;
            if *count == 0 {
                per_group.remove(&self.group);
            }
        }
    }
}

/// The group an address counts in: itself for IPv4, its /64 for IPv6.
pub fn address_group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

impl Admission {
    pub fn new(per_group_max: usize, total_max: usize) -> Arc<Self> {
        Arc::new(Self { per_group: Mutex::new(HashMap::new()), per_group_max, total_max })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.per_group.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place for a connection from `ip`, or says why not.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let group = address_group(ip);
        let mut per_group = self.lock();
        if per_group.values().sum::<usize>() >= self.total_max {
            return Err(Refusal::TooManyConnections);
        }
        let count = per_group.entry(group).or_default();
        if *count >= self.per_group_max {
            return Err(Refusal::TooManyFromThisAddress);
        }
        *count += 1;
        Ok(Slot { admission: self.clone(), group })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn caps_hold_per_group_and_in_all_and_slots_come_back_on_drop() {
        let admission = Admission::new(2, 3);
        let a1 = admission.admit(ip("10.0.0.1")).expect("first");
        let _a2 = admission.admit(ip("10.0.0.1")).expect("second");
        assert_eq!(admission.admit(ip("10.0.0.1")).err(), Some(Refusal::TooManyFromThisAddress));
        let _b = admission.admit(ip("10.0.0.2")).expect("another address");
        assert_eq!(admission.admit(ip("10.0.0.3")).err(), Some(Refusal::TooManyConnections));
        drop(a1);
        assert_eq!(admission.open(), 2);
        admission.admit(ip("10.0.0.1")).expect("a place came back");
    }

    #[test]
    fn ipv6_counts_by_its_64_prefix() {
        let admission = Admission::new(1, 10);
        let _first = admission.admit(ip("2001:db8:1:2::1")).expect("first");
        let same_64 = admission.admit(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(same_64.err(), Some(Refusal::TooManyFromThisAddress));
        admission.admit(ip("2001:db8:1:3::1")).expect("another /64");
        assert_eq!(address_group(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
    }
}
