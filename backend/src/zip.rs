//! A zip file of a few files, stored as they are (no compression), for a command's evidence
//! (routes/evidence.rs): any unzip tool opens it, and each file's bytes are the stored ones.
//! Plain zip, not zip64: at most 65,535 files and 4 GiB in all, which the caller keeps far below.

/// Most bytes of file data in one zip (the formats' 32-bit offsets, with room for the headers).
pub const MOST_BYTES: usize = 1 << 31;
/// Most files in one zip (its 16-bit counts).
pub const MOST_FILES: usize = u16::MAX as usize;

/// 1980-01-01 00:00 in MS-DOS form, the earliest a zip can say: every file the same fixed time, so
/// the same files make the same zip (the manifest says when it was made).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;
/// Version 2.0 (stored files); bit 11: names are UTF-8.
const VERSION: u16 = 20;
const UTF8_NAMES: u16 = 1 << 11;

/// `files` (name, bytes) as a zip, in order. Panics past [`MOST_FILES`] files or [`MOST_BYTES`]
/// bytes: the caller checks first.
pub fn stored(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let data: usize = files.iter().map(|(n, d)| n.len() * 2 + d.len() + 80).sum();
    assert!(
        files.len() <= MOST_FILES && data <= MOST_BYTES,
        "too much for a plain zip"
    );
    let mut out = Vec::with_capacity(data + 22);
    let mut central = Vec::new();
    for (name, bytes) in files {
        let offset = out.len() as u32;
        let crc = crc32fast::hash(bytes);
        let (size, name_len) = (bytes.len() as u32, name.len() as u16);
        // Local file header.
        put32(&mut out, 0x0403_4b50);
        for v in [VERSION, UTF8_NAMES, 0, DOS_TIME, DOS_DATE] {
            put16(&mut out, v);
        }
        for v in [crc, size, size] {
            put32(&mut out, v);
        }
        put16(&mut out, name_len);
        put16(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(bytes);
        // Its entry in the central directory.
        put32(&mut central, 0x0201_4b50);
        for v in [VERSION, VERSION, UTF8_NAMES, 0, DOS_TIME, DOS_DATE] {
            put16(&mut central, v);
        }
        for v in [crc, size, size] {
            put32(&mut central, v);
        }
        for v in [name_len, 0, 0, 0, 0] {
            put16(&mut central, v);
        }
        put32(&mut central, 0);
        put32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let (central_at, central_len) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    // End of central directory.
    put32(&mut out, 0x0605_4b50);
    for v in [0, 0, files.len() as u16, files.len() as u16] {
        put16(&mut out, v);
    }
    put32(&mut out, central_len);
    put32(&mut out, central_at);
    put16(&mut out, 0);
    out
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
