//! What the backend decoded from a body: texts, images, JWS, certificates, requests, PKCS#7. The raw
//! body stays one click away beside it; what did not parse is shown with the reason.

use hermod_shared::decoded::{
    CertSummary, Check, CsrSummary, Decoded, DecodedItem, KeyInfo, Pkcs7Summary,
};
use leptos::prelude::*;
use serde_json::Value;

fn key_text(k: &KeyInfo) -> String {
    match (&k.curve, k.bits) {
        (Some(curve), _) => format!("{} {curve}", k.algorithm),
        (None, Some(bits)) => format!("{} {bits}", k.algorithm),
        (None, None) => k.algorithm.clone(),
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
fn checks(list: Vec<Check>) -> impl IntoView {
    view! {
        <div class="checks">
            {list
                .into_iter()
                .map(|c| badge(c.name.clone(), c.passed, format!("{}: {}", c.name, c.detail)))
                .collect_view()}
        </div>
    }
}

fn row(label: &'static str, value: String) -> impl IntoView {
    view! { <dt>{label}</dt><dd class="mono">{value}</dd> }
}

#[component]
fn Certificate(cert: CertSummary) -> impl IntoView {
    let expired =
        crate::components::time::parse_ms(&cert.not_after).is_some_and(|t| t < js_sys::Date::now());
    view! {
        <dl class="facts cert" data-decoded="certificate">
            {row("Subject", cert.subject)}
            {row("Issuer", cert.issuer)}
            {row("Serial", cert.serial)}
            <dt>"Valid"</dt>
            <dd class="mono">
                {format!("{} → {}", cert.not_before, cert.not_after)}
                {expired.then(|| view! { " " <span class="badge tone-warn">"! expired"</span> })}
            </dd>
            {row("Key", key_text(&cert.key))}
            {(!cert.sans.is_empty()).then(|| row("SANs", cert.sans.join(", ")))}
            {(!cert.usage.is_empty()).then(|| row("Usage", cert.usage.join(", ")))}
            {row("Signature", cert.signature_algorithm)}
            {row("SHA-256", cert.fingerprint_sha256)}
        </dl>
    }
}

#[component]
fn CertRequest(csr: CsrSummary) -> impl IntoView {
    let text = match csr.signature_valid {
        Some(true) => "self-signature valid",
        Some(false) => "self-signature invalid",
        None => "not checked",
    };
    let sig = badge(
        "self-signature".into(),
        csr.signature_valid,
        text.to_string(),
    );
    view! {
        <dl class="facts" data-decoded="cert-request">
            {row("Subject", csr.subject)}
            {row("Key", key_text(&csr.key))}
            {(!csr.sans.is_empty()).then(|| row("SANs", csr.sans.join(", ")))}
            {row("Signature", csr.signature_algorithm)}
            <dt>"Proof"</dt><dd>{sig}</dd>
        </dl>
    }
}

#[component]
fn Pkcs7(p: Pkcs7Summary) -> impl IntoView {
    view! {
        <div data-decoded="pkcs7">
            {p.content.map(|c| view! { <p>"Signed content:"</p><pre class="decoded-text">{c}</pre> })}
            <p class="muted">{format!("Digest: {}", p.digest_algorithms.join(", "))}</p>
            {p.signers.into_iter().map(|s| view! {
                <div class="signer">
                    <p>
                        {format!("Signer: {} ({}, {})", s.signer, s.digest_algorithm, s.signature_algorithm)}
                        {s.signing_time.map(|t| format!(", signed {t}"))}
                    </p>
                    {checks(s.checks)}
                </div>
            }).collect_view()}
            {p.certificates.into_iter().map(|c| view! { <Certificate cert=c/> }).collect_view()}
            {p.left_out.map(|l| view! { <p class="warning" data-left-out="">{l}</p> })}
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

#[component]
fn One(item: DecodedItem, raw: Option<String>) -> impl IntoView {
    let body = match item.decoded {
        Decoded::Text { content_type, text } => view! {
            <p class="muted">{content_type}</p>
            <pre class="decoded-text" data-decoded="text">{text}</pre>
        }
        .into_any(),
        Decoded::Image { content_type, base64 } => view! {
            <img class="decoded-image" data-decoded="image" alt=item.label.clone() src=format!("data:{content_type};base64,{base64}")/>
        }
        .into_any(),
        Decoded::Jws { header, payload, payload_is_json, signature_b64url, checks: list, certificates } => view! {
            <div data-decoded="jws">
                {checks(list)}
                <p>"Header"</p><pre>{pretty(&header)}</pre>
                <p>"Payload"</p>
                <pre>{if payload_is_json { pretty(&payload) } else { payload.as_str().unwrap_or_default().to_string() }}</pre>
                <p class="muted mono sig">{format!("Signature: {}", signature_b64url)}</p>
                {certificates.into_iter().map(|c| view! { <Certificate cert=c/> }).collect_view()}
            </div>
        }
        .into_any(),
        Decoded::Certificate(c) => view! { <Certificate cert=c/> }.into_any(),
        Decoded::CertRequest(c) => view! { <CertRequest csr=c/> }.into_any(),
        Decoded::PublicKey(k) => view! {
            <dl class="facts" data-decoded="public-key">{row("Public key", key_text(&k))}</dl>
        }
        .into_any(),
        Decoded::Pkcs7(p) => view! { <Pkcs7 p=p/> }.into_any(),
        Decoded::Unparsed { what, reason } => view! {
            <p class="error" data-decoded="unparsed">{format!("Could not decode this {what}: {reason}. The raw form is below.")}</p>
        }
        .into_any(),
    };
    view! {
        <details class="decoded" open>
            <summary>{item.label}" "<span class="muted mono">{item.pointer}</span></summary>
            {body}
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
pub fn DecodedList(items: Vec<DecodedItem>, body: Option<String>) -> impl IntoView {
    let body: Value = body
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or(Value::Null);
    items
        .into_iter()
        .map(|item| {
            let raw = item.raw.clone().or_else(|| raw_at(&body, &item.pointer));
            view! { <One item=item raw=raw/> }
        })
        .collect_view()
}
