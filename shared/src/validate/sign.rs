//! The tables of sign and authenticate, which share their parameters: authenticate is a
//! specialised sign (docs/hermod.md §2.7).

use super::field::{Field, Kind, Need, opt, req};

static DATA_ITEM: [Field; 6] = [
    opt(
        "key",
        Kind::Suggest(&["requester", "tbs", "auth_image", "challenge"]),
        "Item name.",
    ),
    opt("description", Kind::Text, "Label shown with the item."),
    opt(
        "content_type",
        Kind::Suggest(&["text/plain", "image/jpeg", "application/hermod+content-id"]),
        "MIME type; application/hermod+content-id makes data a content-provider reference.",
    ),
    opt(
        "content_encoding",
        Kind::Suggest(&["base64"]),
        "base64 when data is encoded.",
    ),
    req(
        "data",
        Kind::Data,
        "The payload: type text or load a file, it is base64-encoded for you.",
    ),
    opt("visible", Kind::Flag, "Whether the device shows the item."),
];

static FILTER: [Field; 3] = [
    opt("op", Kind::Suggest(&["eq"]), "Comparison."),
    opt("param", Kind::Suggest(&["key.type"]), "What is compared."),
    opt("value", Kind::Text, "Compared with: RSA."),
];

/// `signCommand.params` and `authCommand.params`: authenticate is a specialised sign (§2.7), which
/// the simulator also lets go without data to be signed (the device signs a fresh challenge).
const fn sign_params(tbs: Need) -> [Field; 5] {
    [
        opt(
            "description",
            Kind::List(&DATA_ITEM),
            "Texts and images shown around the request.",
        ),
        Field {
            key: "tbs",
            kind: Kind::List(&DATA_ITEM),
            need: tbs,
            hint: "The data to be signed.",
        },
        opt(
            "filter",
            Kind::Object(&FILTER),
            "Which key or certificate may be used.",
        ),
        opt(
            "format",
            // The documented ones, suggested; the Desktop App is said to do more (XMLDSIG, raw
            // RSA), so any is sent (docs/hermod.md).
            Kind::Suggest(&["pkcs7", "jws"]),
            "Signature container.",
        ),
        opt(
            "mechanism",
            Kind::Suggest(&["CKM_SHA256_RSA_PKCS"]),
            "PKCS#11 mechanism.",
        ),
    ]
}

static SIGN_PARAMS: [Field; 5] = sign_params(Need::Required);
static AUTH_PARAMS: [Field; 5] = sign_params(Need::Optional);
pub(super) static SIGN: [Field; 1] = [req("params", Kind::Object(&SIGN_PARAMS), "")];
pub(super) static AUTH: [Field; 1] = [req("params", Kind::Object(&AUTH_PARAMS), "")];
