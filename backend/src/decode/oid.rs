//! Algorithm and object names as people know them. Every decoder names OIDs, and the signature
//! checks name them in their refusals, so this sits below both.

use der::asn1::ObjectIdentifier;
use der::oid::db::{DB, rfc5912, rfc8410};

/// Algorithm names as OpenSSL prints them where the OID database's are clumsier ("id-sha256"),
/// else the database's, else the dotted OID.
pub(super) fn oid_name(oid: &ObjectIdentifier) -> String {
    let name = match *oid {
        rfc5912::ID_SHA_1 => "sha1",
        rfc5912::ID_SHA_224 => "sha224",
        rfc5912::ID_SHA_256 => "sha256",
        rfc5912::ID_SHA_384 => "sha384",
        rfc5912::ID_SHA_512 => "sha512",
        rfc5912::ID_MD_5 => "md5",
        rfc5912::ID_RSASSA_PSS => "RSASSA-PSS",
        rfc8410::ID_ED_25519 => "Ed25519",
        rfc8410::ID_ED_448 => "Ed448",
        _ => {
            return DB
                .by_oid(oid)
                .map_or_else(|| oid.to_string(), str::to_string);
        }
    };
    name.to_string()
}
