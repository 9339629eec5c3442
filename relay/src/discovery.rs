//! Relays finding each other: a relay dials addresses it learned through `addrs` gossip, up to
//! `DiscoveryOptions::outbound_max` at once and at most one per address group, backs off from
//! addresses that fail, and does not dial again for `BAN_DURATION` one that misbehaved. The
//! relays configured with `--peer` are kept apart: they are always dialled (`client`), and
//! count toward no limit here. A relay advertises its own URL only when it is given one.

use crate::address_group::AddressGroup;
use crate::client;
use crate::driver::Driver;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Outbound relays dialled from gossip at once, by default: like Bitcoin Core's eight
/// full-relay outbound peers, enough that a few dishonest ones cannot isolate the relay.
pub const OUTBOUND_DIALLED_MAX: usize = 8;
/// How often the relay looks for an address to dial while it has room for another.
pub const DIAL_INTERVAL: Duration = Duration::from_secs(1);
/// The wait before dialling an address again after its first failure; it doubles with each
/// further failure up to `DIAL_BACKOFF_MAX`.
pub const DIAL_BACKOFF_MIN: Duration = Duration::from_secs(30);
pub const DIAL_BACKOFF_MAX: Duration = Duration::from_secs(60 * 60);
/// How long an address whose relay misbehaved (or is on another network) is not dialled.
pub const BAN_DURATION: Duration = Duration::from_secs(24 * 60 * 60);
/// Addresses the book keeps a record for; past it, records of addresses no longer gossiped go.
pub const DIAL_RECORDS_MAX: usize = 4096;

/// How a relay takes part in discovery.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryOptions {
    /// This relay's own URL (`--public-url`), advertised to peers; never dialled.
    pub public_url: Option<String>,
    /// The `--peer` relays, dialled by `client::keep_connected` instead.
    pub configured: Vec<String>,
    /// Relays dialled from gossip at once; 0 dials none.
    pub outbound_max: usize,
    /// STUN/TURN server URLs the relay tells its tabs to use for direct links (`--ice-server`).
    pub ice_servers: Vec<String>,
}

/// What the book remembers of an address it dialled.
#[derive(Debug, Clone, Copy)]
struct DialRecord {
    failures: u32,
    /// Not dialled again before this.
    retry_at: Instant,
}

/// How a dial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialOutcome {
    /// No connection was made.
    Failed,
    /// The connection was made and later ended.
    Closed,
}

/// The dialling state: which addresses are dialled now, and when each may be dialled again.
#[derive(Debug, Default)]
pub struct AddressBook {
    records: HashMap<String, DialRecord>,
    dialled: BTreeMap<String, AddressGroup>,
}

impl AddressBook {
    /// The next address to dial among `known`, if the relay has room for another: not excluded,
    /// not dialled already, not waiting out a backoff or ban, in a group no dialled address is
    /// in. `choose(n)` picks one of the `n` eligible (the caller's randomness).
    pub fn next_to_dial(
        &self,
        known: &[String],
        excluded: &HashSet<String>,
        outbound_max: usize,
        now: Instant,
        choose: impl FnOnce(usize) -> usize,
    ) -> Option<(String, AddressGroup)> {
        if self.dialled.len() >= outbound_max {
            return None;
        }
        let used: HashSet<&AddressGroup> = self.dialled.values().collect();
        let eligible: Vec<(&String, AddressGroup)> = known
            .iter()
            .filter(|url| !excluded.contains(*url) && !self.dialled.contains_key(*url))
            .filter(|url| self.records.get(*url).is_none_or(|r| r.retry_at <= now))
            .filter_map(|url| Some((url, AddressGroup::of_url(url)?)))
            .filter(|(_, group)| !used.contains(group))
            .collect();
        if eligible.is_empty() {
            return None;
        }
        let (url, group) = &eligible[choose(eligible.len()) % eligible.len()];
        Some(((*url).clone(), group.clone()))
    }

    pub fn dialling(&mut self, url: String, group: AddressGroup) {
        self.dialled.insert(url, group);
    }

    /// Records how the dial of `url` ended: a failure backs off (doubling), an ended connection
    /// may be dialled again after the shortest wait. A ban already recorded stays.
    pub fn ended(&mut self, url: &str, outcome: DialOutcome, now: Instant) {
        self.dialled.remove(url);
        let record = self.records.entry(url.to_owned()).or_insert(DialRecord { failures: 0, retry_at: now });
        if record.retry_at > now + DIAL_BACKOFF_MAX {
            return;
        }
        let failures = match outcome {
            DialOutcome::Failed => record.failures.saturating_add(1),
            DialOutcome::Closed => 1,
        };
        let doublings = failures.saturating_sub(1).min(16);
        let wait = DIAL_BACKOFF_MIN.saturating_mul(1 << doublings).min(DIAL_BACKOFF_MAX);
        *record = DialRecord { failures, retry_at: now + wait };
    }

    /// Not dialling `url` again for `BAN_DURATION`.
    pub fn ban(&mut self, url: &str, now: Instant) {
        let failures = self.records.get(url).map_or(0, |r| r.failures);
        self.records.insert(url.to_owned(), DialRecord { failures, retry_at: now + BAN_DURATION });
    }

    pub fn is_banned(&self, url: &str, now: Instant) -> bool {
        self.records.get(url).is_some_and(|r| r.retry_at > now + DIAL_BACKOFF_MAX)
    }

    /// Addresses dialled now.
    pub fn dialled(&self) -> impl Iterator<Item = &str> {
        self.dialled.keys().map(String::as_str)
    }

    /// Forgets records of addresses no longer `known` once there are too many, keeping bans
    /// and backoffs that still run.
    fn trim(&mut self, known: &[String], now: Instant) {
        if self.records.len() <= DIAL_RECORDS_MAX {
            return;
        }
        let known: HashSet<&String> = known.iter().collect();
        self.records.retain(|url, record| known.contains(url) || record.retry_at > now);
    }
}

/// The address book behind a lock, for the discovery task and the driver (which bans), and the
/// ICE servers the API tells tabs.
#[derive(Debug, Default)]
pub struct Discovery {
    book: Mutex<AddressBook>,
    ice_servers: OnceLock<Vec<String>>,
}

impl Discovery {
    pub fn book<R>(&self, f: impl FnOnce(&mut AddressBook) -> R) -> R {
        f(&mut self.book.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The `--ice-server`s (none until discovery runs, and none by default).
    pub fn ice_servers(&self) -> &[String] {
        self.ice_servers.get().map_or(&[], Vec::as_slice)
    }
}

/// Advertises this relay's own URL, then dials gossiped relays until the driver stops.
pub async fn run(driver: Arc<Driver>, options: DiscoveryOptions) {
    let _ = driver.discovery.ice_servers.set(options.ice_servers.clone());
    if let Some(url) = &options.public_url {
        driver.with_node(|node| node.add_addr(url));
    }
    if options.outbound_max == 0 {
        return;
    }
    let mut excluded: HashSet<String> = options.configured.iter().cloned().collect();
    excluded.extend(options.public_url.iter().cloned());
    let mut interval = tokio::time::interval(DIAL_INTERVAL);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = driver.stopped() => return,
        }
        let known: Vec<String> = driver.read(|node| node.known_addrs().map(str::to_owned).collect());
        let mut busy = excluded.clone();
        busy.extend(driver.peers().into_iter().filter(|p| !p.inbound).map(|p| p.addr));
        let now = Instant::now();
        let next = driver.discovery.book(|book| {
            book.trim(&known, now);
            let next = book.next_to_dial(&known, &busy, options.outbound_max, now, random_below);
            if let Some((url, group)) = &next {
                book.dialling(url.clone(), group.clone());
            }
            next
        });
        if let Some((url, _)) = next {
            tokio::spawn(dial(driver.clone(), url));
        }
    }
}

/// One dial of a gossiped relay, recorded in the book when it ends.
async fn dial(driver: Arc<Driver>, url: String) {
    tracing::info!(%url, "dialling a relay learned from gossip");
    let outcome = match client::connect_once(&driver, &url).await {
        Ok(()) => DialOutcome::Closed,
        Err(error) => {
            tracing::debug!(%url, "cannot dial: {error}");
            DialOutcome::Failed
        }
    };
    driver.discovery.book(|book| book.ended(&url, outcome, Instant::now()));
}

/// A number below `n` (which is positive) from the system's randomness; 0 without it.
fn random_below(n: usize) -> usize {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) % n as u64) as usize,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn one_address_per_group_is_dialled_up_to_the_limit() {
        let mut book = AddressBook::default();
        let now = Instant::now();
        let known = urls(&["ws://203.0.1.1/ws", "ws://203.0.2.2/ws", "ws://198.51.100.1/ws", "ws://127.0.0.1:9/ws"]);
        let mut dialled = Vec::new();
        while let Some((url, group)) = book.next_to_dial(&known, &HashSet::new(), 8, now, |_| 0) {
            book.dialling(url.clone(), group);
            dialled.push(url);
        }
        assert_eq!(dialled, urls(&["ws://203.0.1.1/ws", "ws://198.51.100.1/ws", "ws://127.0.0.1:9/ws"]));
        let mut book = AddressBook::default();
        let (url, group) = book.next_to_dial(&known, &HashSet::new(), 1, now, |_| 1).expect("room for one");
        book.dialling(url, group);
        assert!(book.next_to_dial(&known, &HashSet::new(), 1, now, |_| 0).is_none(), "the limit is reached");
        let excluded: HashSet<String> = known.iter().cloned().collect();
        assert!(AddressBook::default().next_to_dial(&known, &excluded, 8, now, |_| 0).is_none());
    }

    #[test]
    fn failures_back_off_doubling_and_a_ban_outlasts_them() {
        let mut book = AddressBook::default();
        let now = Instant::now();
        let url = "ws://198.51.100.1/ws";
        let known = urls(&[url]);
        let eligible_at = |book: &AddressBook, t: Instant| book.next_to_dial(&known, &HashSet::new(), 8, t, |_| 0);
        book.ended(url, DialOutcome::Failed, now);
        assert!(eligible_at(&book, now + DIAL_BACKOFF_MIN - Duration::from_secs(1)).is_none());
        assert!(eligible_at(&book, now + DIAL_BACKOFF_MIN).is_some());
        book.ended(url, DialOutcome::Failed, now);
        assert!(eligible_at(&book, now + DIAL_BACKOFF_MIN).is_none(), "doubled");
        assert!(eligible_at(&book, now + 2 * DIAL_BACKOFF_MIN).is_some());
        for _ in 0..40 {
            book.ended(url, DialOutcome::Failed, now);
        }
        assert!(eligible_at(&book, now + DIAL_BACKOFF_MAX).is_some(), "capped");
        book.ban(url, now);
        book.ended(url, DialOutcome::Closed, now);
        assert!(book.is_banned(url, now), "the end of the banned connection does not lift the ban");
        assert!(eligible_at(&book, now + BAN_DURATION - Duration::from_secs(1)).is_none());
        assert!(eligible_at(&book, now + BAN_DURATION).is_some());
    }
}
