//! What the backend decoded from a body: texts, images, JWS, certificates, requests, PKCS#7. The raw
//! body stays one click away beside it; what did not parse is shown with the reason.
//!
//! Items are read as JSON by the fields shown (`TimelineEntry<Value>`, docs/ARCHITECTURE.md "The
//! page's size"): the backend's types (`hermod_shared::decoded::DecodedItem`) say what each holds.

use crate::components::json::{array, text, texts};
use leptos::prelude::*;
use serde_json::Value;

fn key_text(k: &Value) -> String {
    let algorithm = text(&k["algorithm"]);
    match (k["curve"].as_str(), k["bits"].as_u64()) {
        (Some(curve), _) => format!("{algorithm} {curve}"),
        (None, Some(bits)) => format!("{algorithm} {bits}"),
        (None, None) => algorithm.to_string(),
    }
}

/// A check's outcome: passed, failed, or not made (`None`).
fn badge(name: String, passed: Option<bool>, text: String) -> impl IntoView {
    let (class, mark) = match passed {
        Some(true) => ("badge tone-ok", '✓'),
        Some(false) => ("badge tone-bad", '✕'),
        None => ("badge tone-neutral", '•'),
    };
    view! { <span class=class data-check=name>{format!("{mark} {text}")}</span> }
}

/// Each check of a signature: its own, then those that decide what it is worth.
fn checks(list: &Value) -> impl IntoView + use<> {
    view! {
        <div class="checks">
            {array(list)
                .iter()
                .map(|c| {
                    let name = text(&c["name"]);
                    badge(name.to_string(), c["passed"].as_bool(), format!("{name}: {}", text(&c["detail"])))
                })
                .collect_view()}
        </div>
    }
}

fn row(label: &'static str, value: String) -> impl IntoView {
    view! { <dt>{label}</dt><dd class="mono">{value}</dd> }
}

/// A list's items joined, or nothing when it has none.
fn joined(label: &'static str, list: &Value) -> Option<impl IntoView + use<>> {
    let list = texts(list);
    (!list.is_empty()).then(|| row(label, list.join(", ")))
}

/// A distinguished name as `openssl x509 -subject` prints it, the most general part first; the
/// RFC 4514 string (the most specific first) shows on hover.
fn dn_row(label: &'static str, c: &Value, key: &str) -> impl IntoView + use<> {
    let rfc4514 = text(&c[key]);
    let shown = c[format!("{key}_openssl")]
        .as_str()
        .unwrap_or(rfc4514)
        .to_string();
    view! { <dt>{label}</dt><dd class="mono" title=format!("RFC 4514: {rfc4514}")>{shown}</dd> }
}

fn certificate(c: &Value) -> impl IntoView + use<> {
    let not_after = text(&c["not_after"]);
    let expired =
        crate::components::time::parse_ms(not_after).is_some_and(|t| t < js_sys::Date::now());
    view! {
        <dl class="facts cert" data-decoded="certificate">
            {c["role"].as_str().map(|r| row("Role", r.to_string()))}
            {dn_row("Subject", c, "subject")}
            {dn_row("Issuer", c, "issuer")}
            {row("Serial", text(&c["serial"]).to_string())}
            <dt>"Valid"</dt>
            <dd class="mono">
                {format!("{} → {not_after}", text(&c["not_before"]))}
                {expired.then(|| view! { " " <span class="badge tone-warn">"! expired"</span> })}
            </dd>
            {row("Key", key_text(&c["key"]))}
            {joined("SANs", &c["sans"])}
            {joined("Usage", &c["usage"])}
            {row("Signature", text(&c["signature_algorithm"]).to_string())}
            {row("SHA-256", text(&c["fingerprint_sha256"]).to_string())}
            {c["ski"].as_str().map(|id| row("Key ID", id.to_string()))}
            {c["aki"].as_str().map(|id| row("Issuer's key ID", id.to_string()))}
            {joined("CRL", &c["crl"])}
            {joined("OCSP", &c["ocsp"])}
            {joined("CA issuers", &c["ca_issuers"])}
        </dl>
    }
}

fn certificates(list: &Value) -> impl IntoView + use<> {
    array(list).iter().map(certificate).collect_view()
}

fn cert_request(c: &Value) -> impl IntoView + use<> {
    let passed = c["signature_valid"].as_bool();
    let said = match passed {
        Some(true) => "self-signature valid",
        Some(false) => "self-signature invalid",
        None => "not checked",
    };
    view! {
        <dl class="facts" data-decoded="cert-request">
            {dn_row("Subject", c, "subject")}
            {row("Key", key_text(&c["key"]))}
            {joined("SANs", &c["sans"])}
            {row("Signature", text(&c["signature_algorithm"]).to_string())}
            <dt>"Proof"</dt><dd>{badge("self-signature".into(), passed, said.to_string())}</dd>
        </dl>
    }
}

fn pkcs7(p: &Value) -> impl IntoView + use<> {
    let signer = |s: &Value| {
        let time = s["signing_time"].as_str().map(|t| format!(", signed {t}"));
        view! {
            <div class="signer">
                <p>
                    {format!(
                        "Signer: {} ({}, {})",
                        text(&s["signer"]),
                        text(&s["digest_algorithm"]),
                        text(&s["signature_algorithm"]),
                    )}
                    {time}
                </p>
                {checks(&s["checks"])}
            </div>
        }
    };
    let content = p["content"].as_str().map(str::to_string);
    let left_out = p["left_out"].as_str().map(str::to_string);
    view! {
        <div data-decoded="pkcs7">
            {content.map(|c| view! { <p>"Signed content:"</p><pre class="decoded-text">{c}</pre> })}
            <p class="muted">{format!("Digest: {}", texts(&p["digest_algorithms"]).join(", "))}</p>
            {array(&p["signers"]).iter().map(signer).collect_view()}
            {certificates(&p["certificates"])}
            {left_out.map(|l| view! { <p class="warning" data-left-out="">{l}</p> })}
        </div>
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The value `pointer` names in `body` as it came, for the one-click raw view: for what sits inside
/// a JWS, the whole JWS (an item from a JWS's payload brings its own).
fn raw_at(body: &Value, pointer: &str) -> Option<String> {
    let outer = pointer.split('#').next().unwrap_or_default();
    match body.pointer(outer)? {
        Value::String(s) => Some(s.clone()),
        other => Some(pretty(other)),
    }
}

/// What one item holds, by its kind (the one key of `decoded`).
fn shown(kind: &str, d: &Value, label: &str) -> AnyView {
    match kind {
        "text" => view! {
            <p class="muted">{text(&d["content_type"]).to_string()}</p>
            <pre class="decoded-text" data-decoded="text">{text(&d["text"]).to_string()}</pre>
        }
        .into_any(),
        "image" => view! {
            <img class="decoded-image" data-decoded="image" alt=label.to_string()
                src=format!("data:{};base64,{}", text(&d["content_type"]), text(&d["base64"]))/>
        }
        .into_any(),
        "jws" => {
            let payload = &d["payload"];
            let payload = if d["payload_is_json"].as_bool() == Some(true) {
                pretty(payload)
            } else {
                text(payload).to_string()
            };
            view! {
                <div data-decoded="jws">
                    {checks(&d["checks"])}
                    <p>"Header"</p><pre>{pretty(&d["header"])}</pre>
                    <p>"Payload"</p><pre>{payload}</pre>
                    <p class="muted mono sig">{format!("Signature: {}", text(&d["signature_b64url"]))}</p>
                    {certificates(&d["certificates"])}
                </div>
            }
            .into_any()
        }
        "certificate" => certificate(d).into_any(),
        "cert_request" => cert_request(d).into_any(),
        "public_key" => view! {
            <dl class="facts" data-decoded="public-key">{row("Public key", key_text(d))}</dl>
        }
        .into_any(),
        "pkcs7" => pkcs7(d).into_any(),
        _ => view! {
            <p class="error" data-decoded="unparsed">
                {format!("Could not decode this {}: {}. The raw form is below.", text(&d["what"]), text(&d["reason"]))}
            </p>
        }
        .into_any(),
    }
}

/// A file of the material, for a CA or openssl: (file name, `data:` URL). Certificates, requests
/// and keys as PEM, PKCS#7 as DER (`.p7s`), a JWS as its compact text.
fn download(kind: &str, pointer: &str, raw: &str) -> Option<(String, String)> {
    let (ext, pem) = match kind {
        "certificate" => ("pem", "CERTIFICATE"),
        "cert_request" => ("csr", "CERTIFICATE REQUEST"),
        "public_key" => ("pem", "PUBLIC KEY"),
        "pkcs7" => ("p7s", ""),
        "jws" => ("jws", ""),
        _ => return None,
    };
    let name = pointer
        .rsplit(['/', '#'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(kind);
    let b64: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let url = match ext {
        "p7s" => format!("data:application/pkcs7-signature;base64,{b64}"),
        "jws" => format!(
            "data:application/jose,{}",
            js_sys::encode_uri_component(raw)
        ),
        _ if raw.contains("-----BEGIN") => format!(
            "data:application/x-pem-file,{}",
            js_sys::encode_uri_component(raw)
        ),
        _ => {
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(64)
                .filter_map(|l| std::str::from_utf8(l).ok())
                .collect();
            let text = format!(
                "-----BEGIN {pem}-----\n{}\n-----END {pem}-----\n",
                lines.join("\n")
            );
            format!(
                "data:application/x-pem-file,{}",
                js_sys::encode_uri_component(&text)
            )
        }
    };
    Some((format!("{name}.{ext}"), url))
}

fn one(item: &Value, raw: Option<String>) -> impl IntoView + use<> {
    let label = text(&item["label"]);
    let decoded = item["decoded"].as_object().and_then(|o| o.iter().next());
    let file = decoded
        .zip(raw.as_deref())
        .and_then(|((kind, _), raw)| download(kind, text(&item["pointer"]), raw));
    let body = decoded.map(|(kind, d)| shown(kind, d, label));
    view! {
        <details class="decoded" open>
            <summary>{label.to_string()}" "<span class="muted mono">{text(&item["pointer"]).to_string()}</span></summary>
            {body}
            {file.map(|(name, href)| view! {
                <p><a class="download" href=href download=name.clone()>{format!("Download {name}")}</a></p>
            })}
            {raw.map(|raw| view! {
                <details class="raw" data-raw="">
                    <summary>"Raw"</summary>
                    <pre>{raw}</pre>
                </details>
            })}
        </details>
    }
}

/// Every decoded item of one body (`body`: that body's text, for each item's raw form).
#[component]
pub fn DecodedList(items: Vec<Value>, body: Option<String>) -> impl IntoView {
    let body: Value = body
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or(Value::Null);
    items
        .iter()
        .map(|item| {
            let raw = item["raw"]
                .as_str()
                .map(str::to_string)
                .or_else(|| raw_at(&body, text(&item["pointer"])));
            one(item, raw)
        })
        .collect_view()
}
