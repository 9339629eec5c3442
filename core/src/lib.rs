//! tabchain's core: the consensus rules and (in time) the whole node, as a deterministic state
//! machine with no IO.
//!
//! This crate is `no_std` with `alloc`. It never reads a clock, a random source, a socket or a
//! file: time, keys and entropy come in as arguments, and effects go out as returned values.
//! The browser (`tabchain-web`) and the relay (`tabchain-relay`) are thin shells around it, so
//! both run exactly the same rules.
//!
//! The modules below are private; this file's re-exports are the API.

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod address;
mod amount;
mod asert;
mod bech32;
mod block;
mod chain;
pub mod commitment;
mod encode;
pub mod explorer;
mod fetched_block;
mod hash;
mod header;
pub mod hex;
mod kernel;
mod limits;
mod mempool;
mod merkle;
mod message;
mod muhash;
mod node;
mod params;
mod pow;
mod quota;
mod retarget;
mod sighash;
mod signature;
mod sort;
mod target;
mod template;
#[cfg(test)]
mod testkit;
mod transaction;
mod uint;
mod utxo;
mod utxo_checksum;
mod validation;
mod wallet;

pub use address::{ADDRESS_VERSION, AddressError, decode_address, encode_address};
pub use amount::{Amount, AmountError, COIN};
pub use asert::{AsertAnchor, AsertParams, asert_next_target};
pub use bech32::Bech32Error;
pub use block::Block;
pub use chain::{
    ACTIVE_BLOCKS_KEPT, BestHeader, BlockEntry, CHECKPOINT_RECORD_BYTES_MAX, CHECKPOINT_VERSION, Chain, ChainResume,
    ChainUpdate, CheckpointMoved, KnownHeader, ResumeError, StoredTip,
};
pub use chain::{AdoptError, RollbackError, SnapshotOverlay};
pub use encode::{
    Decode, DecodeError, Encode, Reader, decode, decode_bounded, encode, write_bytes, write_compact_size, write_list,
};
pub use fetched_block::{
    FETCHED_BLOCK_CHECKS, FetchedBlockError, FetchedBlockView, check_fetched_block, pruned_block_hash,
};
pub use hash::{BlockHash, MerkleRoot, Txid, UtxoCommitment, sha256, sha256d};
pub use header::{HEADER_BYTES, Header};
pub use kernel::{MiningJob, SearchResult, search, search_portable, simd_available};
pub use limits::{BLOCK_BYTES_MAX, BLOCK_INPUTS_MAX, BLOCK_TXS_MAX, TX_BYTES_MAX, TX_INPUTS_MAX, TX_OUTPUTS_MAX};
pub use mempool::{
    DUST_AMOUNT_MIN, FeeRate, MEMPOOL_BYTES_MAX, MIN_RELAY_FEE_RATE, Mempool, MempoolEntry, MempoolError, ORPHAN_TTL_S,
    ORPHAN_TXS_MAX, ORPHAN_TXS_PER_PEER_MAX,
};
pub use merkle::{MERKLE_DEPTH_MAX, MerkleError, MerkleProof, merkle_root};
pub use message::{
    ADDR_BYTES_MAX, ADDRS_MAX, HEADERS_MAX, INV_ITEMS_MAX, InvItem, LINKS_MAX, LOCATOR_HASHES_MAX, MESSAGE_BYTES_MAX,
    Message, PROTOCOL_VERSION, SIGNAL_BYTES_MAX, SNAPSHOT_CHUNK_COINS_MAX, SNAPSHOT_COIN_BYTES, USER_AGENT_BYTES_MAX,
};
pub use muhash::{MUHASH_BYTES, MuHash3072, MuHashDecodeError};
pub use node::{
    ADDR_TTL_S, ADDRS_FORWARD_BATCH_MAX, ADDRS_FORWARD_PEERS, ADDRS_KNOWN_MAX, ADDRS_PER_PEER_MAX,
    BLOCK_REQUEST_TIMEOUT_S, BLOCKS_IN_FLIGHT_PER_PEER_MAX, BRANCH_SWITCHES_MAX, BranchSwitch, CHANGE_SET_BLOCKS_MAX,
    CHANGE_SET_OPS_MAX, CHANGE_SET_VERSION, ChainOp, ChangeSet, DisconnectReason, Downloads, Event,
    GETDATA_REPLY_BYTES_MAX, HANDSHAKE_TIMEOUT_S, HEADER_WORK_MARGIN_BLOCKS, HEADERS_AHEAD_MAX,
    HEADERS_REQUEST_TIMEOUT_S, KNOWN_INV_MAX, LinkRole, MESSAGE_BURST_MAX, MESSAGES_PER_S_MAX, MISBEHAVIOUR_THRESHOLD,
    Node, NodeCheckpoint, NodeResume, Output, PENDING_BLOCK_TTL_S, PENDING_BLOCKS_MAX, PENDING_BLOCKS_PER_PEER_MAX,
    PING_INTERVAL_S, PING_TIMEOUT_S, POLICY_VIOLATION_SCORE, PRESYNC_COMMITMENT_INTERVAL, PRESYNC_COMMITMENTS_MAX,
    PRESYNC_HEADERS_MAX, PeerId, PeerView, REJECTED_TXS_MAX, REQUEST_BATCH_MIN, RateLimit, RestoreError,
    SIDE_BLOCK_DEPTH_MAX, SIDE_HEADERS_MAX, SIGNAL_WINDOW_S, SIGNALS_PER_RECEIVER_MAX, SIGNALS_PER_WINDOW_MAX,
    SYNC_INTERVAL_S, TEMPLATE_TX_BYTES_MAX, TX_ANNOUNCERS_MAX, TX_REQUEST_TIMEOUT_S, TX_REQUESTS_MAX,
    WALLET_HISTORY_STORED_MAX, WALLET_RECORD_TAG, WALLET_RECORD_VERSION, restore_blocks,
};
pub use node::{
    BLOCK_OUTPUTS_MAX, SNAPSHOT_COINS_MAX, SNAPSHOT_DEPTH, SNAPSHOT_INTERVAL, SNAPSHOT_MIN_HEIGHT,
    SNAPSHOT_REQUEST_TIMEOUT_S, SNAPSHOT_SERVED_BASES, SnapshotChunkError, SnapshotProgress, is_served_base,
    snapshot_base_height,
};
pub use params::{
    DifficultyRule, Network, Params, TABCHAIN_FUTURE_TIME_LIMIT_S, TABCHAIN_HALF_LIFE_S, TABCHAIN_SPACING_S,
    UnknownNetwork,
};
pub use pow::{MEDIAN_TIME_SPAN, PowError, check_proof_of_work, median_time_past};
pub use retarget::{RetargetParams, bitcoin_retarget, is_retarget_height};
pub use sighash::{SIGHASH_TAG, TxDigest, sighash, sign_input, signed_transaction, verify_input};
pub use signature::{PublicKey, SecretKey, Signature, SignatureError, verify_signature};
pub use target::{CompactTarget, CompactTargetError, Target, Work};
pub use template::{
    COINBASE_TAG_BYTES_MAX, assemble_block, child_block, child_block_of, coinbase, coinbase_tag, search_nonce,
    tag_coinbase,
};
pub use transaction::{OutPoint, TX_BYTES_MIN, TXIN_BYTES, TXOUT_BYTES, Transaction, TxIn, TxOut};
pub use uint::U256;
pub use utxo::{BlockUndo, Coin, CoinStore, UtxoSet, apply_connect, apply_disconnect, created_coins};
pub use utxo_checksum::UtxoChecksum;
pub use validation::{BlockError, TxError, check_block, check_transaction, connect_block, disconnect_block};
pub use wallet::{Balance, WALLET_TX_BYTES, Wallet, WalletError, WalletTx};
