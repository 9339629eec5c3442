//! The `node` target's seed corpus: scripted scenarios (a sync answered by an honest peer, a
//! reorg relayed by a peer, transactions pooled and mined, an orphan and its parent, flawed
//! blocks, a handshake gone wrong, pings and timeouts), written as the bytes `arbitrary` 1.5
//! reads them back as `Input`s, so that fuzzing starts from deep states.
//!
//! `Script` mirrors the derived decoding: an enum is a `u32` whose top bits pick the variant,
//! integers are little-endian, a `bool` is a byte's low bit, an `Option` a `bool` then the
//! value, and each list element follows a `true` byte, the list ending with a `false` one. The
//! test decodes every scenario back and compares, so a change to the types that the encoding
//! does not follow fails here. `TABCHAIN_WRITE_SEEDS=1` (set by `cargo xtask fuzz seeds`)
//! rewrites `fuzz/corpus/node`; otherwise the test checks that the committed seeds are these.

use super::*;

trait Script {
    fn script(&self, out: &mut Vec<u8>);
}

fn variant(out: &mut Vec<u8>, index: u64, count: u64) {
    let tag = (index << 32).div_ceil(count);
    out.extend_from_slice(&u32::try_from(tag).expect("index < count").to_le_bytes());
}

macro_rules! int_script {
    ($($ty:ty),*) => {$(
        impl Script for $ty {
            fn script(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
int_script!(u8, u16, u32, u64);

impl Script for bool {
    fn script(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl<T: Script> Script for Option<T> {
    fn script(&self, out: &mut Vec<u8>) {
        self.is_some().script(out);
        if let Some(value) = self {
            value.script(out);
        }
    }
}

impl<T: Script> Script for Vec<T> {
    fn script(&self, out: &mut Vec<u8>) {
        for item in self {
            true.script(out);
            item.script(out);
        }
        false.script(out);
    }
}

impl Script for Input {
    fn script(&self, out: &mut Vec<u8>) {
        self.node_blocks.script(out);
        self.actions.script(out);
    }
}

impl Script for Action {
    fn script(&self, out: &mut Vec<u8>) {
        const COUNT: u64 = 14;
        match self {
            Action::Connect { peer, greet } => {
                variant(out, 0, COUNT);
                peer.script(out);
                greet.script(out);
            }
            Action::Disconnect { peer } => {
                variant(out, 1, COUNT);
                peer.script(out);
            }
            Action::Send { peer, part } => {
                variant(out, 2, COUNT);
                peer.script(out);
                part.script(out);
            }
            Action::Raw { peer, bytes } => {
                variant(out, 3, COUNT);
                peer.script(out);
                bytes.script(out);
            }
            Action::Answer { peer } => {
                variant(out, 4, COUNT);
                peer.script(out);
            }
            Action::Relay { peer, to, n } => {
                variant(out, 5, COUNT);
                peer.script(out);
                to.script(out);
                n.script(out);
            }
            Action::Tick { advance_s } => {
                variant(out, 6, COUNT);
                advance_s.script(out);
            }
            Action::Wait => variant(out, 7, COUNT),
            Action::Grow { n } => {
                variant(out, 8, COUNT);
                n.script(out);
            }
            Action::Fork { depth, n } => {
                variant(out, 9, COUNT);
                depth.script(out);
                n.script(out);
            }
            Action::Mine(recipe) => {
                variant(out, 10, COUNT);
                recipe.script(out);
            }
            Action::SubmitBlock(recipe) => {
                variant(out, 11, COUNT);
                recipe.script(out);
            }
            Action::MakeTx(recipe) => {
                variant(out, 12, COUNT);
                recipe.script(out);
            }
            Action::SubmitTx(recipe) => {
                variant(out, 13, COUNT);
                recipe.script(out);
            }
        }
    }
}

impl Script for Part {
    fn script(&self, out: &mut Vec<u8>) {
        const COUNT: u64 = 17;
        match self {
            Part::Hello { version, other_genesis, best_height } => {
                variant(out, 0, COUNT);
                version.script(out);
                other_genesis.script(out);
                best_height.script(out);
            }
            Part::Ping(nonce) => {
                variant(out, 1, COUNT);
                nonce.script(out);
            }
            Part::Pong { answer, nonce } => {
                variant(out, 2, COUNT);
                answer.script(out);
                nonce.script(out);
            }
            Part::Inv(items) => {
                variant(out, 3, COUNT);
                items.script(out);
            }
            Part::GetData(items) => {
                variant(out, 4, COUNT);
                items.script(out);
            }
            Part::NotFound(items) => {
                variant(out, 5, COUNT);
                items.script(out);
            }
            Part::GetHeaders { locator } => {
                variant(out, 6, COUNT);
                locator.script(out);
            }
            Part::Headers { to, n } => {
                variant(out, 7, COUNT);
                to.script(out);
                n.script(out);
            }
            Part::Block(i) => {
                variant(out, 8, COUNT);
                i.script(out);
            }
            Part::Tx(i) => {
                variant(out, 9, COUNT);
                i.script(out);
            }
            Part::NewBlock(recipe) => {
                variant(out, 10, COUNT);
                recipe.script(out);
            }
            Part::NewTx(recipe) => {
                variant(out, 11, COUNT);
                recipe.script(out);
            }
            Part::GetAddrs => variant(out, 12, COUNT),
            Part::Addrs(addrs) => {
                assert!(addrs.is_empty(), "scripts send no address text");
                {
                    variant(out, 13, COUNT);
                    false.script(out);
                }
            }
            Part::GetLinks => variant(out, 14, COUNT),
            Part::Links { you, peers } => {
                variant(out, 15, COUNT);
                you.script(out);
                peers.script(out);
            }
            Part::Signal { to, payload } => {
                variant(out, 16, COUNT);
                to.script(out);
                payload.script(out);
            }
        }
    }
}

impl Script for Item {
    fn script(&self, out: &mut Vec<u8>) {
        match self {
            Item::Block(i) => {
                variant(out, 0, 4);
                i.script(out);
            }
            Item::Tx(i) => {
                variant(out, 1, 4);
                i.script(out);
            }
            Item::UnknownBlock(b) => {
                variant(out, 2, 4);
                b.script(out);
            }
            Item::UnknownTx(b) => {
                variant(out, 3, 4);
                b.script(out);
            }
        }
    }
}

impl Script for BlockRecipe {
    fn script(&self, out: &mut Vec<u8>) {
        self.parent.script(out);
        self.txs.script(out);
        self.unclaimed.script(out);
        self.overclaim.script(out);
        self.time_step.script(out);
        self.flaw.script(out);
    }
}

impl Script for Flaw {
    fn script(&self, out: &mut Vec<u8>) {
        variant(out, *self as u64, 5);
    }
}

impl Script for TxRecipe {
    fn script(&self, out: &mut Vec<u8>) {
        self.coins.script(out);
        self.outputs.script(out);
        self.fee.script(out);
        self.to_second_key.script(out);
        self.wrong_key.script(out);
    }
}

fn block(parent: u16, txs: Vec<u16>, flaw: Option<Flaw>) -> BlockRecipe {
    BlockRecipe { parent, txs, unclaimed: 0, overclaim: false, time_step: 9, flaw }
}

fn tx(coins: Vec<u16>, outputs: u8) -> TxRecipe {
    TxRecipe { coins, outputs, fee: 100, to_second_key: false, wrong_key: false }
}

fn connect(peer: u8) -> Action {
    Action::Connect { peer, greet: true }
}

/// The scenarios, by name.
fn scenarios() -> Vec<(&'static str, Input)> {
    use Action::*;
    let send = |peer: u8, part: Part| Send { peer, part };
    vec![
        // A fresh node syncs 30 blocks headers-first from a peer that answers its requests.
        (
            "sync",
            Input {
                node_blocks: 20,
                actions: vec![
                    Grow { n: 9 },
                    connect(0),
                    Answer { peer: 0 },
                    Answer { peer: 0 },
                    Tick { advance_s: 6 },
                    Answer { peer: 0 },
                ],
            },
        ),
        // A peer relays a longer branch forking three blocks below the tip.
        (
            "reorg",
            Input {
                node_blocks: 0,
                actions: vec![Fork { depth: 3, n: 4 }, connect(1), Relay { peer: 1, to: 0, n: 12 }],
            },
        ),
        // Transactions from the user and from a peer are pooled, then mined in a relayed block.
        (
            "pool-and-mine",
            Input {
                node_blocks: 0,
                actions: vec![
                    SubmitTx(tx(vec![0], 2)),
                    connect(2),
                    send(2, Part::NewTx(tx(vec![0], 1))),
                    send(2, Part::Inv(vec![Item::Tx(0), Item::Block(0)])),
                    Mine(block(0, vec![2, 1], None)),
                    Relay { peer: 2, to: 0, n: 1 },
                ],
            },
        ),
        // A child arrives before its parent (an orphan), then the parent.
        (
            "orphan",
            Input {
                node_blocks: 0,
                actions: vec![
                    MakeTx(tx(vec![0], 2)),
                    connect(3),
                    send(3, Part::NewTx(tx(vec![0], 1))),
                    send(3, Part::Tx(2)),
                    Wait,
                ],
            },
        ),
        // Flawed blocks from a peer and from the user, one of each flaw.
        (
            "flawed-blocks",
            Input {
                node_blocks: 0,
                actions: vec![
                    connect(0),
                    send(0, Part::NewBlock(block(0, vec![], Some(Flaw::MerkleRoot)))),
                    connect(1),
                    send(1, Part::NewBlock(block(0, vec![], Some(Flaw::Unmined)))),
                    SubmitBlock(block(0, vec![], Some(Flaw::Bits))),
                    SubmitBlock(block(0, vec![], Some(Flaw::Early))),
                    SubmitBlock(block(0, vec![], Some(Flaw::DuplicateCoinbase))),
                    SubmitBlock(BlockRecipe { overclaim: true, ..block(0, vec![], None) }),
                ],
            },
        ),
        // Handshakes gone wrong: a message before hello, a wrong version and network, twice hello.
        (
            "handshakes",
            Input {
                node_blocks: 5,
                actions: vec![
                    Action::Connect { peer: 0, greet: false },
                    send(0, Part::Ping(1)),
                    Action::Connect { peer: 1, greet: false },
                    send(1, Part::Hello { version: Some(2), other_genesis: false, best_height: 0 }),
                    Action::Connect { peer: 2, greet: false },
                    send(2, Part::Hello { version: None, other_genesis: true, best_height: 0 }),
                    connect(3),
                    send(3, Part::Hello { version: None, other_genesis: false, best_height: 99 }),
                    Action::Connect { peer: 0, greet: false },
                    Tick { advance_s: 11 },
                ],
            },
        ),
        // Pings answered and not, headers and data asked of the node, addresses, a disconnect.
        (
            "chatter",
            Input {
                node_blocks: 0,
                actions: vec![
                    connect(0),
                    connect(1),
                    Tick { advance_s: 21 },
                    send(0, Part::Pong { answer: true, nonce: 0 }),
                    send(1, Part::GetHeaders { locator: vec![3, 1] }),
                    send(1, Part::GetData(vec![Item::Block(0), Item::Tx(0), Item::UnknownBlock(7)])),
                    send(1, Part::NotFound(vec![Item::UnknownTx(1)])),
                    send(0, Part::GetAddrs),
                    send(0, Part::Addrs(vec![])),
                    send(0, Part::Headers { to: 0, n: 5 }),
                    Disconnect { peer: 0 },
                    Wait,
                ],
            },
        ),
        // Two peers asking for direct links and signalling each other, one past its budget.
        (
            "links",
            Input {
                node_blocks: 0,
                actions: vec![
                    connect(0),
                    connect(1),
                    send(0, Part::GetLinks),
                    send(1, Part::GetLinks),
                    send(0, Part::Signal { to: 1, payload: b"{\"type\":\"offer\"}".to_vec() }),
                    send(1, Part::Signal { to: 0, payload: b"{\"type\":\"answer\"}".to_vec() }),
                    send(1, Part::Links { you: 9, peers: vec![0] }),
                    send(0, Part::Signal { to: 1, payload: vec![] }),
                    send(0, Part::Signal { to: 1, payload: vec![] }),
                    send(0, Part::Signal { to: 1, payload: vec![] }),
                    send(0, Part::Signal { to: 1, payload: vec![] }),
                    send(0, Part::Signal { to: 7, payload: vec![] }),
                    Wait,
                ],
            },
        ),
        // Raw frames: a truncated one and an unknown tag.
        (
            "raw",
            Input {
                node_blocks: 0,
                actions: vec![
                    connect(0),
                    Raw { peer: 0, bytes: vec![3, 1] },
                    connect(1),
                    Raw { peer: 1, bytes: vec![200] },
                ],
            },
        ),
    ]
}

#[test]
fn node_seeds_are_the_scripted_scenarios() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/node");
    let write = std::env::var_os("TABCHAIN_WRITE_SEEDS").is_some();
    if write {
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).expect("corpus folder");
    }
    let mut names = Vec::new();
    for (name, input) in scenarios() {
        let mut bytes = Vec::new();
        input.script(&mut bytes);
        let decoded: Input =
            arbitrary::Arbitrary::arbitrary_take_rest(arbitrary::Unstructured::new(&bytes)).expect("a script decodes");
        assert_eq!(format!("{decoded:?}"), format!("{input:?}"), "{name}: the script decodes to itself");
        let path = folder.join(name);
        if write {
            std::fs::write(&path, &bytes).expect("seed written");
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(committed == bytes, "{name}: committed seed differs; run `cargo xtask fuzz seeds`");
        names.push(name.to_owned());
    }
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .expect("corpus folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    names.sort();
    assert_eq!(files, names, "fuzz/corpus/node holds the scenarios only");
}

/// Each scenario runs through the harness with every invariant checked, and reaches what it
/// is named for.
#[test]
fn scenarios_reach_their_states() {
    for (name, input) in scenarios() {
        let harness = Harness::run_to_end(&input);
        let node = &harness.node;
        match name {
            "sync" => assert_eq!(node.chain().height(), 30, "{name}"),
            "reorg" => assert_eq!(node.branch_switches().count(), 1, "{name}"),
            "pool-and-mine" => assert_eq!(node.chain().height(), 21, "{name}"),
            "orphan" => assert_eq!(node.mempool().len(), 2, "{name}"),
            _ => {}
        }
    }
}
