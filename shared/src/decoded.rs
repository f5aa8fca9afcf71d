//! What the backend makes of PKI material and data items it finds in request, answer, callback and poll
//! bodies: a decoded view the page shows (and the store searches), with the raw form kept beside it.
//! Material that does not parse is reported with the reason, never hidden.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One thing found in a JSON body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecodedItem {
    /// Where in the body (a JSON pointer; for JWS payload contents, the pointer of the JWS plus
    /// `#payload/...`).
    pub pointer: String,
    /// A short human label: "tbs data item 'tbs'", "signature (PKCS#7)", "certreq for key 'signer'".
    pub label: String,
    pub decoded: Decoded,
    /// The text it was decoded from, when the body does not hold it as such (it sits inside a JWS's
    /// payload): what the page's raw view and download give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decoded {
    /// A base64 data item that is text.
    Text {
        content_type: String,
        text: String,
    },
    /// A base64 data item that is an image (shown with a data: URL).
    Image {
        content_type: String,
        base64: String,
    },
    /// A compact JWS: header and payload decoded, signature checked against the certificate it carries
    /// (`x5c`) where it carries one.
    Jws {
        header: Value,
        /// The payload as JSON when it is JSON, else as text (or base64 when binary).
        payload: Value,
        payload_is_json: bool,
        signature_b64url: String,
        /// The signature's own check, then the validity and chain of the `x5c` certificate (see
        /// [`Check`]).
        #[serde(default)]
        checks: Vec<Check>,
        certificates: Vec<CertSummary>,
    },
    Certificate(Box<CertSummary>),
    CertRequest(CsrSummary),
    /// A bare public key (SubjectPublicKeyInfo), such as the PIN reset's `transportedkey`.
    PublicKey(KeyInfo),
    Pkcs7(Pkcs7Summary),
    /// Looked like material (base64 of DER, a JWS shape…) but did not parse.
    Unparsed {
        what: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KeyInfo {
    /// "RSA", "EC", "Ed25519", or the algorithm OID when unknown.
    pub algorithm: String,
    /// Modulus bits for RSA; curve size for EC.
    pub bits: Option<u32>,
    /// "P-256" and the like, for EC.
    pub curve: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CertSummary {
    /// RFC 4514 strings, the most specific part first ("CN=…, O=…"), as keys and searches use.
    pub subject: String,
    pub issuer: String,
    /// The same names as `openssl x509 -subject` prints them, the most general part first
    /// ("O=…, CN=…"): how the page shows them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject_openssl: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issuer_openssl: String,
    /// Hex, colon-free, upper case.
    pub serial: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub key: KeyInfo,
    /// Subject alternative names, as "DNS:x", "IP:x", "email:x", "URI:x".
    pub sans: Vec<String>,
    /// What it may be used for: "CA" for a CA, its key usage bits as OpenSSL names them ("Digital
    /// Signature", "Key Encipherment", …), then its extended key usages ("clientAuth",
    /// "msSmartcardLogin", … or the OID).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<String>,
    pub is_ca: bool,
    pub signature_algorithm: String,
    /// SHA-256 of the DER, hex.
    pub fingerprint_sha256: String,
    /// Its subject key identifier and its issuer's (the authority key identifier), in hex pairs
    /// joined by colons as `openssl x509 -text` prints them: what ties it to its issuer's
    /// certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ski: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aki: Option<String>,
    /// Where its revocation is published: its CRL distribution points, its OCSP responders, and
    /// where its issuer's certificate is (`caIssuers`), as general names ("URI:http://…").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crl: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ocsp: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_issuers: Vec<String>,
    /// What it is to the signature that carries it, in a short phrase: "signer", "issuer of
    /// <subject CN>", either with " (self-signed root)" after it, or "self-signed root" alone. None
    /// for a certificate decoded on its own, and for one the signature's others do not explain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CsrSummary {
    pub subject: String,
    /// As in [`CertSummary`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject_openssl: String,
    pub key: KeyInfo,
    pub sans: Vec<String>,
    pub signature_algorithm: String,
    /// Whether the request's self-signature checks out with its own key.
    pub signature_valid: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Pkcs7Summary {
    /// The encapsulated content, when present (text when UTF-8, else base64).
    pub content: Option<String>,
    pub digest_algorithms: Vec<String>,
    pub signers: Vec<SignerSummary>,
    pub certificates: Vec<CertSummary>,
    /// What a message with more signers or certificates than are decoded leaves out, said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_out: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignerSummary {
    /// The signer certificate's subject when it is among the certificates, else issuer + serial.
    pub signer: String,
    pub digest_algorithm: String,
    pub signature_algorithm: String,
    pub signing_time: Option<String>,
    /// Every check that decides what the signature is worth, its own (`signature`) among them.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// One check of a signature: its own, and those beside it, so that "signature valid" is never read
/// as more than it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Check {
    /// `signature`, `digest` (the content against the signed message-digest), `validity` (the
    /// signer's certificate at signing time) or `chain` (to the client's trust bundle).
    pub name: String,
    /// `true` passed, `false` failed, absent: not checked, and `detail` says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    pub detail: String,
}

impl Check {
    pub fn passed(name: &str, detail: impl Into<String>) -> Check {
        Check::new(name, Some(true), detail)
    }
    pub fn failed(name: &str, detail: impl Into<String>) -> Check {
        Check::new(name, Some(false), detail)
    }
    pub fn not_checked(name: &str, detail: impl Into<String>) -> Check {
        Check::new(name, None, detail)
    }
    /// What a list of checks comes to, in brief: each name with its outcome.
    pub fn outcome(&self) -> (&str, Option<bool>) {
        (&self.name, self.passed)
    }
    /// The check called `name` in a signature's list, `signature` for its own.
    pub fn named<'a>(checks: &'a [Check], name: &str) -> Option<&'a Check> {
        checks.iter().find(|c| c.name == name)
    }
    fn new(name: &str, passed: Option<bool>, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            passed,
            detail: detail.into(),
        }
    }
}
