//! Base64 of our own: the WebAssembly bundle compiles this crate, and a base64 crate would only
//! make it bigger.

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with the standard alphabet and padding, without pulling a base64 crate into the bundle.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes what [`base64_encode`] writes; `None` for anything else. As strict as the `base64` crate's
/// standard engine the simulator used before (padding required, unused bits zero), except that
/// whitespace around the whole text is ignored.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let s = text.trim().as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (n, chunk) in s.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && (n + 1) * 4 != s.len()) {
            return None;
        }
        let mut acc = 0u32;
        for c in &chunk[..4 - pad] {
            let sextet = BASE64_ALPHABET.iter().position(|a| a == c)?;
            acc = acc << 6 | sextet as u32;
        }
        acc <<= 6 * pad;
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        // The bits after the last whole byte must be zero, or two texts would decode alike.
        if bytes[3 - pad..].iter().any(|b| *b != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}
