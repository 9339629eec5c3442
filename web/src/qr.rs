//! QR codes for the page: an address as an SVG image a phone can scan.

use qrcodegen::{QrCode, QrCodeEcc};
use wasm_bindgen::prelude::*;

/// Light modules around the code, as the QR specification asks.
const QUIET_ZONE_MODULES: i32 = 4;

/// `text` as a QR code (medium error correction), an SVG document drawn in whole modules.
pub(crate) fn qr_svg_of(text: &str) -> Result<String, String> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| "too long for a QR code".to_owned())?;
    let size = code.size();
    let side = size + 2 * QUIET_ZONE_MODULES;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET_ZONE_MODULES, y + QUIET_ZONE_MODULES));
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// `qr_svg_of` for the page.
#[wasm_bindgen]
pub fn qr_svg(text: &str) -> Result<String, JsError> {
    qr_svg_of(text).map_err(|e| JsError::new(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_becomes_an_svg_with_a_quiet_zone() {
        let address = "tab1q32yw8ht5p8cetl2jmvknewjawt9xwzdlrk2pyxlnwjyqrdq0dawqpq0zz3";
        let svg = qr_svg_of(address).expect("valid");
        let code = QrCode::encode_text(address, QrCodeEcc::Medium).expect("valid");
        let side = code.size() + 2 * QUIET_ZONE_MODULES;
        assert!(svg.starts_with("<svg") && svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        let dark = (0..code.size())
            .flat_map(|y| (0..code.size()).map(move |x| (x, y)))
            .filter(|&(x, y)| code.get_module(x, y));
        assert_eq!(svg.matches("h1v1h-1z").count(), dark.count());
    }

    #[test]
    fn text_too_long_for_any_qr_code_is_an_error() {
        assert!(qr_svg_of(&"x".repeat(4000)).is_err());
    }
}
