//! The API's OpenAPI document as a relay serves it. `openapi.json` states the main network's
//! address form; a relay on another network serves it with that network's, so that the schema
//! admits exactly the addresses the relay takes (all but a bad checksum, which the document's
//! `tabchain-address` format names and no pattern can express).

use tabchain_core::Params;

/// The document as written, for the main network.
const OPENAPI: &str = include_str!("openapi.json");

/// The bech32 characters, as a regular-expression class: all lowercase letters and digits but
/// `1`, `b`, `i` and `o`.
const BECH32_CLASS: &str = "[02-9ac-hj-np-z]";

/// The form of an address of the network whose prefix is `hrp`: the prefix, `1`, version 0
/// (`q`), the 32-byte key in 52 characters (the last holding the key's last bit and four bits of
/// zero padding, so `q` or `s`), and 6 characters of checksum.
pub fn address_pattern(hrp: &str) -> String {
    format!("^{hrp}1q{BECH32_CLASS}{{51}}[qs]{BECH32_CLASS}{{6}}$")
}

/// The document a relay on `params`'s network serves at `/api/openapi.json`, and checks path and
/// query parameters against (`api_params`).
pub fn document(params: &Params) -> String {
    let written = address_pattern(Params::tabchain().address_hrp);
    assert_eq!(OPENAPI.matches(&written).count(), 1, "openapi.json states the address form once, as {written}");
    OPENAPI.replacen(&written, &address_pattern(params.address_hrp), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabchain_core::{PublicKey, encode_address};

    #[test]
    fn each_network_s_document_admits_its_own_addresses_only() {
        // Keys ending in a 0 bit and a 1 bit: the last key character is `q` or `s`.
        let keys = [[0; 32], [0x55; 32], [0xff; 32]].map(PublicKey);
        for params in [Params::tabchain(), Params::regtest()] {
            let spec: serde_json::Value = serde_json::from_str(&document(&params)).expect("JSON");
            let pattern = spec["components"]["schemas"]["AddressText"]["pattern"].as_str().expect("a pattern");
            let form = regex::Regex::new(pattern).expect("a regular expression");
            for other in [Params::tabchain(), Params::regtest()] {
                for key in &keys {
                    let address = encode_address(other.address_hrp, key);
                    let same = other.address_hrp == params.address_hrp;
                    assert_eq!(form.is_match(&address), same, "{address} under {pattern}");
                }
            }
        }
        assert_eq!(document(&Params::tabchain()), OPENAPI, "the main network's is the file as written");
    }
}
