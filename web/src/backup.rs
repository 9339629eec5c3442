//! The wallet key as 24 words: the 32-byte seed is BIP-39 entropy (English list, 8-bit
//! checksum), so a backup can be written down by hand and typed back in, with typos caught.

use bip39::{Language, Mnemonic};
use tabchain_core::hex;
use wasm_bindgen::prelude::*;

/// Words in a backup of a 32-byte key.
pub const BACKUP_WORDS: usize = 24;

/// The 24 words of the key `seed_hex`.
pub(crate) fn words_of_key(seed_hex: &str) -> Result<String, String> {
    let seed = hex::decode_array::<32>(seed_hex.trim()).map_err(|e| format!("not a 32-byte key: {e}"))?;
    let mnemonic = Mnemonic::from_entropy(&seed).map_err(|e| e.to_string())?;
    Ok(mnemonic.to_string())
}

/// The key (hex) that `words` back up; any spacing or case. Refuses a wrong count, a word not
/// on the list, and a failed checksum (a mistyped or swapped word).
pub(crate) fn key_of_words(words: &str) -> Result<String, String> {
    let list: Vec<String> = words.split_whitespace().map(str::to_ascii_lowercase).collect();
    let count = list.len();
    if count != BACKUP_WORDS {
        return Err(format!("a key backup is {BACKUP_WORDS} words; got {count}"));
    }
    let mnemonic = Mnemonic::parse_in_normalized(Language::English, &list.join(" ")).map_err(|e| e.to_string())?;
    let (entropy, len) = mnemonic.to_entropy_array();
    Ok(hex::encode(&entropy[..len]))
}

/// `words_of_key` for the page.
#[wasm_bindgen]
pub fn key_to_words(seed_hex: &str) -> Result<String, JsError> {
    words_of_key(seed_hex).map_err(|e| JsError::new(&e))
}

/// `key_of_words` for the page.
#[wasm_bindgen]
pub fn words_to_key(words: &str) -> Result<String, JsError> {
    key_of_words(words).map_err(|e| JsError::new(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_its_words() {
        let key = "7f".repeat(32);
        let words = words_of_key(&key).expect("valid");
        assert_eq!(words.split(' ').count(), BACKUP_WORDS);
        assert_eq!(key_of_words(&words.to_uppercase().replace(' ', "\n  ")).expect("valid"), key);
    }

    #[test]
    fn the_bip39_vector_for_all_zero_entropy_holds() {
        let words = words_of_key(&"00".repeat(32)).expect("valid");
        assert_eq!(words, format!("{}art", "abandon ".repeat(23)));
    }

    #[test]
    fn mistakes_are_refused() {
        let words = words_of_key(&"01".repeat(32)).expect("valid");
        let mut list: Vec<&str> = words.split(' ').collect();
        assert!(key_of_words(&list[..23].join(" ")).expect_err("refused").contains("24 words"));
        list.swap(0, 1);
        assert!(key_of_words(&list.join(" ")).is_err(), "swapped words pass the checksum");
        list.swap(0, 1);
        list[5] = "tabchain";
        assert!(key_of_words(&list.join(" ")).is_err());
        assert!(words_of_key("abcd").is_err());
    }
}
