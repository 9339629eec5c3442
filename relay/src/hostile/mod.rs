//! Hostile clients: the attacks a client can mount on a running relay, for the relay's
//! integration tests and for `tabchain-hostile`, which `cargo xtask soak` runs against a relay
//! for the length of a soak. Nothing here is used by the relay itself.
//!
//! - [`forged`]: blocks, headers and transactions that break one rule each, cheap on regtest;
//! - [`ws_client`], [`http_client`]: raw clients from a chosen loopback address, every wait
//!   bounded and every failure a value;
//! - [`attacks`]: each attack mounted once, and whether the defence held.

pub mod attacks;
pub mod forged;
pub mod http_client;
pub mod ws_client;

pub use attacks::Attack;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tabchain_core::{Params, SIDE_BLOCK_DEPTH_MAX};

/// The relay's tip must be this high before the loop starts, so that a sibling of genesis is a
/// deep side block the relay refuses rather than a recent fork it keeps.
pub const START_HEIGHT_MIN: u32 = SIDE_BLOCK_DEPTH_MAX + 2;
/// How often the loop asks the relay's height while it waits for `START_HEIGHT_MIN`.
const START_POLL: Duration = Duration::from_millis(500);

/// The relay under attack, and what the attacker is.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The loopback address attacks come from: one honest clients do not use, so the relay's
    /// per-address caps fall on the attacker alone.
    pub source: IpAddr,
    /// The relay's network (forged blocks and headers are valid work on it only on regtest).
    pub params: Params,
    /// Tells this attacker's forged items apart from another run's.
    pub seed: u64,
}

/// The defence held: the attack was refused, dropped or absorbed as designed.
#[derive(Debug)]
pub struct Held {
    pub detail: String,
    /// Hostile connections the relay closed.
    pub disconnects: u32,
}

impl Held {
    fn refused(detail: String) -> Self {
        Self { detail, disconnects: 0 }
    }

    fn dropped(detail: String) -> Self {
        Self { detail, disconnects: 1 }
    }
}

/// The attack did not show a defence holding.
#[derive(Debug)]
pub enum Miss {
    /// The relay was not there (down, or restarting).
    Down(String),
    /// The relay answered otherwise than its defence says.
    Failed(String),
}

/// How one mounted attack ended, as `tabchain-hostile` reports it.
#[derive(Debug)]
pub struct Outcome {
    pub attack: Attack,
    pub result: Result<Held, Miss>,
    /// Milliseconds since the Unix epoch when the attack started and ended.
    pub started_ms: u128,
    pub ended_ms: u128,
}

impl Outcome {
    /// One JSON object: `{attack, verdict: "held" | "down" | "failed", detail, disconnects,
    /// started_ms, ended_ms}`.
    pub fn to_json(&self) -> serde_json::Value {
        let (verdict, detail, disconnects) = match &self.result {
            Ok(held) => ("held", held.detail.as_str(), held.disconnects),
            Err(Miss::Down(detail)) => ("down", detail.as_str(), 0),
            Err(Miss::Failed(detail)) => ("failed", detail.as_str(), 0),
        };
        serde_json::json!({
            "attack": self.attack.name(),
            "verdict": verdict,
            "detail": detail,
            "disconnects": disconnects,
            "started_ms": self.started_ms as u64,
            "ended_ms": self.ended_ms as u64,
        })
    }
}

fn unix_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

/// Mounts `attack` once.
pub async fn mount(target: &Target, attack: Attack, n: u64) -> Outcome {
    let started_ms = unix_ms();
    let result = attack.mount(target, n).await;
    Outcome { attack, result, started_ms, ended_ms: unix_ms() }
}

/// Mounts every attack in turn, `pause` apart, until `until` (or `rounds_max` attacks), and
/// hands each outcome to `report`. Starts once the relay's tip reaches `START_HEIGHT_MIN`.
pub async fn run(target: &Target, until: Instant, pause: Duration, rounds_max: u64, mut report: impl FnMut(&Outcome)) {
    while Instant::now() < until && relay_height(target).await.is_none_or(|h| h < START_HEIGHT_MIN) {
        tokio::time::sleep(START_POLL).await;
    }
    for n in 0..rounds_max {
        if Instant::now() >= until {
            return;
        }
        let attack = Attack::ALL[(n % Attack::ALL.len() as u64) as usize];
        report(&mount(target, attack, n).await);
        tokio::time::sleep(pause).await;
    }
}

/// The relay's height from `/api/status`, if it answers.
pub async fn relay_height(target: &Target) -> Option<u32> {
    let response = http_client::get(target.source, target.addr, "/api/status", "").await.ok()?;
    response.json()["height"].as_u64().and_then(|h| u32::try_from(h).ok())
}
