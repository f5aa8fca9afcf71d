//! The tables of the commands that build a profile: provisioning (its keys and its card) and the
//! certificates installed for those keys afterwards.

use super::field::{Field, Kind, guess, opt, req};

static KEY_TYPE: [Field; 3] = [
    req("keytype", Kind::Suggest(&["RSA", "EC"]), "Key algorithm."),
    opt(
        "keylength",
        Kind::Digits,
        "Key size in bits, as a string: \"2048\".",
    ),
    opt(
        "responsemechanism",
        Kind::Suggest(&["RS256", "ES256"]),
        "JWA algorithm of the response signature.",
    ),
];

static KEYGEN: [Field; 6] = [
    req("keyid", Kind::Text, "Your label for the key: \"signer\"."),
    opt(
        "usage",
        Kind::Suggest(&["SIG", "AUTH", "ENC"]),
        "Key usage.",
    ),
    req(
        "keytypeprios",
        Kind::List(&KEY_TYPE),
        "Acceptable key types, most preferred first.",
    ),
    opt(
        "storageprios",
        Kind::Strings(&["APP"]),
        "Where the key may be stored, most preferred first.",
    ),
    opt(
        "keystate",
        Kind::Suggest(&["ACTIVE"]),
        "State of the new key.",
    ),
    opt(
        "certreq",
        Kind::Der("CERTIFICATE REQUEST"),
        "Template PKCS#10 (base64 DER or PEM): the subject to keep; the device puts in its own key.",
    ),
];

const CARD_DATA_TYPE: Field = opt(
    "dataType",
    Kind::Suggest(&["IMAGE", "JOSE"]),
    "IMAGE on the front, JOSE on the back.",
);
const CARD_KEY: Field = opt("key", Kind::Suggest(&["front", "back"]), "front or back.");
const CARD_TEXT_COLOR: Field = opt(
    "textColor",
    Kind::Suggest(&["WHITE"]),
    "Colour of the text.",
);

static CARD_FRONT: [Field; 4] = [
    opt(
        "data",
        Kind::Base64,
        "A JPEG in base64, aspect ratio 1200:757.",
    ),
    CARD_DATA_TYPE,
    CARD_KEY,
    CARD_TEXT_COLOR,
];

static CARD_BACK: [Field; 5] = [
    opt(
        "data",
        Kind::Text,
        "A JWS signed with Nexus-issued certificates; shown only after the PIN.",
    ),
    CARD_DATA_TYPE,
    CARD_KEY,
    CARD_TEXT_COLOR,
    opt(
        "protection",
        Kind::Suggest(&["NONE"]),
        "Older documentation only.",
    ),
];

static PROFILE_CARD: [Field; 2] = [
    opt("front", Kind::Object(&CARD_FRONT), "The card's front."),
    opt("back", Kind::Object(&CARD_BACK), "The card's back."),
];

static VISUAL_DATA: [Field; 2] = [
    opt(
        "contentId",
        Kind::Text,
        "PROV:<uuid>, resolved by the client's content provider; card data wins over it.",
    ),
    opt(
        "profileCard",
        Kind::Object(&PROFILE_CARD),
        "The card drawn inline.",
    ),
];

static PROFILE: [Field; 4] = [
    opt(
        "servername",
        Kind::Text,
        "The issuing server's name, shown to the user.",
    ),
    opt(
        "name",
        Kind::Text,
        "Profile name in the app; leave it out to update an existing profile.",
    ),
    req(
        "keygenrequests",
        Kind::List(&KEYGEN),
        "One entry per key the device generates.",
    ),
    opt(
        "visualData",
        Kind::Object(&VISUAL_DATA),
        "Card layout of a mobile virtual smart card (Hermod 3.1.1+).",
    ),
];

pub(super) static PROV: [Field; 5] = [
    opt(
        "nonce",
        Kind::Text,
        "Your nonce, echoed inside the signed response.",
    ),
    opt(
        "userid",
        Kind::Text,
        "The user, shown in the profile (often the e-mail address).",
    ),
    opt(
        "responsesignaturekey",
        Kind::Suggest(&["ATTESTATION"]),
        "Attestation key the device signs its response with.",
    ),
    opt(
        "responseformat",
        Kind::Suggest(&["jws"]),
        "Format of the device's signed response.",
    ),
    req("profile", Kind::Object(&PROFILE), "The profile to create."),
];

// The certificate list's shape is a guess (docs/hermod.md §2.5).
static CERT_ITEM: [Field; 2] = [
    guess("keyid", Kind::Text, "The key the certificate belongs to."),
    guess(
        "certificate",
        Kind::Der("CERTIFICATE"),
        "The certificate, base64 DER or PEM: paste it or load the file.",
    ),
];

pub(super) static CERT: [Field; 4] = [
    opt("profileid", Kind::Text, "The profile to install into."),
    opt(
        "smartcardid",
        Kind::Text,
        "The token, when its id differs from the profile id.",
    ),
    opt(
        "desktopKeyProtectionLevel",
        Kind::Suggest(&["NONE", "CONSENT"]),
        "Desktop App: NONE uses the key silently, CONSENT asks the user.",
    ),
    guess(
        "certificates",
        Kind::List(&CERT_ITEM),
        "The certificates to install.",
    ),
];
