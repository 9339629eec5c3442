//! `Backlog`: change sets the store could not write because the disk was full, held in memory in
//! order (within `BACKLOG_BYTES_MAX`) and written as soon as the disk has room again.
//!
//! While anything is held, later sets queue behind it, so the store still receives every set in
//! the order the node emitted them; nothing the store committed is ever lost, and nothing is
//! acknowledged (the API answers 503) until it is committed.

use crate::store::{Store, is_out_of_space};
use std::collections::VecDeque;
use tabchain_core::{ChangeSet, encode};

/// Bytes of change sets held while the disk is full: about 40,000 ten-second blocks of a few
/// hundred bytes, many hours of the network. Past it the driver stops, as for any store fault.
pub const BACKLOG_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Change sets waiting for room on the disk.
#[derive(Debug, Default)]
pub struct Backlog {
    sets: VecDeque<HeldSet>,
    bytes: usize,
}

/// A held change set and its encoded size, counted against `BACKLOG_BYTES_MAX`.
#[derive(Debug)]
struct HeldSet {
    set: ChangeSet,
    bytes: usize,
}

/// What became of a change set handed to `persist`.
#[derive(Debug, PartialEq, Eq)]
pub enum Persisted {
    Written,
    /// Held in memory; `first` when this set found the disk full.
    Held {
        first: bool,
    },
    /// A fault other than a full disk, or the backlog over its cap: the driver stops.
    Failed(String),
}

/// What a retry did.
#[derive(Debug, PartialEq, Eq)]
pub enum Retried {
    /// Nothing was held.
    Idle,
    /// The disk is still full; this many sets are held.
    StillFull {
        held: usize,
    },
    /// Every held set is written now.
    Cleared {
        written: usize,
    },
    Failed(String),
}

impl Backlog {
    /// Whether sets are held (the disk was full at the last try).
    pub fn is_holding(&self) -> bool {
        !self.sets.is_empty()
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Writes `set`, or holds it behind earlier held sets, or when the disk is full.
    pub fn persist(&mut self, store: &Store, set: &ChangeSet) -> Persisted {
        if self.is_holding() {
            return self.hold(set.clone(), false);
        }
        match store.apply(set) {
            Ok(()) => Persisted::Written,
            Err(error) if is_out_of_space(&error) => {
                if let Err(error) = store.reopen() {
                    return Persisted::Failed(format!("{error:#}"));
                }
                self.hold(set.clone(), true)
            }
            Err(error) => Persisted::Failed(format!("{error:#}")),
        }
    }

    /// Writes the held sets, oldest first, until one meets a full disk again.
    pub fn retry(&mut self, store: &Store) -> Retried {
        if !self.is_holding() {
            return Retried::Idle;
        }
        let mut written = 0;
        while let Some(held) = self.sets.front() {
            match store.apply(&held.set) {
                Ok(()) => {
                    written += 1;
                    self.bytes -= held.bytes;
                    self.sets.pop_front();
                }
                Err(error) if is_out_of_space(&error) => {
                    return match store.reopen() {
                        Ok(()) => Retried::StillFull { held: self.sets.len() },
                        Err(error) => Retried::Failed(format!("{error:#}")),
                    };
                }
                Err(error) => return Retried::Failed(format!("{error:#}")),
            }
        }
        Retried::Cleared { written }
    }

    fn hold(&mut self, set: ChangeSet, first: bool) -> Persisted {
        let bytes = encode(&set).len();
        if self.bytes + bytes > BACKLOG_BYTES_MAX {
            return Persisted::Failed(format!(
                "the disk stayed full until {} MiB of the chain waited in memory, the most the relay holds",
                BACKLOG_BYTES_MAX >> 20
            ));
        }
        self.bytes += bytes;
        self.sets.push_back(HeldSet { set, bytes });
        Persisted::Held { first }
    }
}
