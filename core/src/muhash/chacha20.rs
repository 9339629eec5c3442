//! The ChaCha20 block function (RFC 8439), just what MuHash3072 needs: the 384-byte keystream
//! of a 32-byte key with a zero nonce, read as 48 little-endian 64-bit limbs.
//!
//! Written here rather than taken from RustCrypto's `chacha20`: MuHash needs six blocks of
//! keystream and nothing of a cipher's API, the crate would bring `cipher` and its traits into
//! consensus code for about forty lines, and the same portable code runs natively and in
//! wasm32. It is checked against RFC 8439's block-function vectors in the tests below.

/// Words in the ChaCha20 state; each block of keystream is this many little-endian words.
const STATE_WORDS: usize = 16;
/// Bytes of keystream one block gives.
pub(crate) const BLOCK_BYTES: usize = STATE_WORDS * 4;
/// ChaCha20's 20 rounds, as 10 double rounds (a column round and a diagonal round each).
const DOUBLE_ROUNDS: usize = 10;
/// "expand 32-byte k", the first four words of every state.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// One quarter-round on words `a`, `b`, `c` and `d` of the state.
#[inline(always)]
fn quarter_round(x: &mut [u32; STATE_WORDS], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

/// One block of ChaCha20 keystream as 16 words: `key`, the 32-bit block `counter` and the
/// 96-bit `nonce`, all as RFC 8439 lays them out.
pub(crate) fn block_words(key: &[u32; 8], counter: u32, nonce: &[u32; 3]) -> [u32; STATE_WORDS] {
    let mut init = [0u32; STATE_WORDS];
    init[..4].copy_from_slice(&SIGMA);
    init[4..12].copy_from_slice(key);
    init[12] = counter;
    init[13..].copy_from_slice(nonce);
    let mut x = init;
    for _ in 0..DOUBLE_ROUNDS {
        // A column round, then a diagonal round.
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    for (word, start) in x.iter_mut().zip(init) {
        *word = word.wrapping_add(start);
    }
    x
}

/// The key's words, little-endian as RFC 8439 reads them.
pub(crate) fn key_words(key: &[u8; 32]) -> [u32; 8] {
    let mut words = [0u32; 8];
    for (word, bytes) in words.iter_mut().zip(key.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    words
}

/// The first `N * 8` bytes of keystream of `key` with a zero nonce and counter 0, as `N`
/// little-endian 64-bit limbs. `N * 8` must be whole blocks.
pub(crate) fn keystream_limbs<const N: usize>(key: &[u8; 32]) -> [u64; N] {
    const LIMBS_PER_BLOCK: usize = BLOCK_BYTES / 8;
    const { assert!(N.is_multiple_of(LIMBS_PER_BLOCK), "keystream_limbs reads whole blocks") };
    let key = key_words(key);
    let mut limbs = [0u64; N];
    for (counter, chunk) in (0u32..).zip(limbs.chunks_exact_mut(LIMBS_PER_BLOCK)) {
        let words = block_words(&key, counter, &[0; 3]);
        for (limb, pair) in chunk.iter_mut().zip(words.chunks_exact(2)) {
            *limb = u64::from(pair[0]) | (u64::from(pair[1]) << 32);
        }
    }
    limbs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;
    use alloc::vec::Vec;

    fn block_bytes(key: &[u8; 32], counter: u32, nonce: &[u8; 12]) -> Vec<u8> {
        let nonce = [0, 4, 8].map(|i| u32::from_le_bytes([nonce[i], nonce[i + 1], nonce[i + 2], nonce[i + 3]]));
        block_words(&key_words(key), counter, &nonce).iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn check(key: &str, counter: u32, nonce: &str, expected: &str) {
        let key: [u8; 32] = hex::decode(key).expect("hex").try_into().expect("32 bytes");
        let nonce: [u8; 12] = hex::decode(nonce).expect("hex").try_into().expect("12 bytes");
        assert_eq!(hex::encode(&block_bytes(&key, counter, &nonce)), expected, "counter {counter}");
    }

    /// RFC 8439 section 2.3.2 (the block function) and appendix A.1 (test vectors 1 to 5).
    #[test]
    fn rfc8439_block_vectors() {
        let zero_key = "0000000000000000000000000000000000000000000000000000000000000000";
        let zero_nonce = "000000000000000000000000";
        check(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            1,
            "000000090000004a00000000",
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e\
             d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
        );
        check(
            zero_key,
            0,
            zero_nonce,
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7\
             da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
        );
        check(
            zero_key,
            1,
            zero_nonce,
            "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed\
             29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
        );
        check(
            "0000000000000000000000000000000000000000000000000000000000000001",
            1,
            zero_nonce,
            "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a\
             8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0",
        );
        check(
            "00ff000000000000000000000000000000000000000000000000000000000000",
            2,
            zero_nonce,
            "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca\
             13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096",
        );
        check(
            zero_key,
            0,
            "000000000000000000000002",
            "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7\
             8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d",
        );
    }

    /// The limbs are the keystream's bytes, block after block, read little-endian.
    #[test]
    fn keystream_limbs_are_the_blocks_in_order() {
        let key = [7u8; 32];
        let limbs: [u64; 48] = keystream_limbs(&key);
        let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
        let blocks: Vec<u8> = (0..6).flat_map(|counter| block_bytes(&key, counter, &[0; 12])).collect();
        assert_eq!(bytes, blocks);
    }
}
