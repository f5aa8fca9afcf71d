//! What text search sees of a body: the body as received, with long blobs (base64 signatures,
//! certificates, hex dumps) cut out. Nobody searches the inside of a signature, and what it holds that
//! is worth finding (subjects, serials, dates) is searchable through the decoded words beside it; the
//! blobs are most of a body's size, so leaving them out keeps the index small and its writes cheap
//! (docs/ARCHITECTURE.md, "Search").

/// Runs of blob characters longer than this are left out.
const LONGEST_KEPT: usize = 64;
/// At most this much of one body is indexed.
const MOST_PER_BODY: usize = 64 << 10;

/// Characters a base64, base64url, hex or PEM-body run is made of.
fn blob_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_' | '.' | ':')
}

/// `body` with every run of blob characters longer than [`LONGEST_KEPT`] replaced by `…`, and cut at
/// [`MOST_PER_BODY`] bytes. Everything else stays as it was received, so a search for a piece of JSON
/// (`"state":"COMPLETED"`) finds it as before.
pub fn searchable(body: &str) -> String {
    let mut out = String::with_capacity(body.len().min(MOST_PER_BODY));
    let mut run_start = None;
    for (i, c) in body.char_indices() {
        if blob_char(c) {
            run_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = run_start.take() {
            push_run(&mut out, &body[start..i]);
        }
        if out.len() >= MOST_PER_BODY {
            return out;
        }
        out.push(c);
    }
    if let Some(start) = run_start {
        push_run(&mut out, &body[start..]);
    }
    out
}

fn push_run(out: &mut String, run: &str) {
    if run.len() > LONGEST_KEPT {
        out.push('…');
    } else {
        out.push_str(run);
    }
}

/// The indexed text of one record: its searchable parts and the words decoded from it, one per line.
pub fn document<'a>(parts: impl IntoIterator<Item = &'a str>, decoded: &'a str) -> String {
    let mut text = String::new();
    for part in parts.into_iter().chain([decoded]) {
        if !part.is_empty() {
            text.push_str(&searchable(part));
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_blobs_are_cut_and_the_rest_is_kept_as_received() {
        let signature = "MIIG".to_string() + &"QUJD".repeat(100);
        let body = format!(
            r#"{{"commandId":"1790000000123","state":"COMPLETED","result":{{"signature":"{signature}","format":"pkcs7"}}}}"#
        );
        let text = searchable(&body);
        assert_eq!(
            text,
            r#"{"commandId":"1790000000123","state":"COMPLETED","result":{"signature":"…","format":"pkcs7"}}"#
        );
        // Prose and short tokens stay whole, whatever their length overall.
        let prose = "Pay 100 EUR to ACME Corporation for invoice 2026-000123 ".repeat(10);
        assert_eq!(searchable(&prose), prose);
        // A run of exactly the longest kept length stays.
        let edge = "a".repeat(LONGEST_KEPT);
        assert_eq!(searchable(&edge), edge);
        assert_eq!(searchable(&format!("x {edge}b y")), "x … y");
    }

    #[test]
    fn a_huge_body_is_cut_at_the_limit_on_a_character_boundary() {
        let body = "é ".repeat(MOST_PER_BODY);
        let text = searchable(&body);
        assert!(text.len() <= MOST_PER_BODY + 4, "{}", text.len());
        assert!(text.starts_with("é é"));
    }

    #[test]
    fn a_document_joins_its_parts_and_decoded_words() {
        assert_eq!(
            document(["{\"a\":1}", "", "1011"], "CN=Device 7"),
            "{\"a\":1}\n1011\nCN=Device 7\n"
        );
    }
}
