//! Images in data items, shown only when the bytes are the image they claim to be.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hermod_shared::decoded::Decoded;

use super::unparsed;

/// The image types a browser shows from a data: URL, by magic number.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"BM") && bytes.len() >= 26 {
        Some("image/bmp")
    } else {
        None
    }
}

/// An image only when the bytes are the declared type (or any known type when none is declared),
/// so a mislabelled or hostile payload never reaches an <img>.
pub(super) fn image(declared: &str, bytes: Vec<u8>) -> Decoded {
    let declared = match declared {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "image/x-bmp" | "image/x-ms-bmp" => "image/bmp",
        other => other,
    };
    match image_type(&bytes) {
        Some(actual) if declared.is_empty() || declared == actual => Decoded::Image {
            content_type: actual.to_string(),
            base64: STANDARD.encode(&bytes),
        },
        Some(actual) => unparsed(
            "image",
            format!("declared {declared} but the bytes are {actual}"),
        ),
        None => unparsed(
            "image",
            format!(
                "the {} bytes are not a PNG, JPEG, GIF, WebP or BMP image",
                bytes.len()
            ),
        ),
    }
}
