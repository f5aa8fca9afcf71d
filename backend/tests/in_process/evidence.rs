//! A command's evidence (`GET /api/commands/{id}/evidence`, README.md "Evidence"): one zip file with
//! every body byte for byte, what was decoded, the audit entries, and a manifest whose hashes match.

use crate::harness::{CALLBACK_PASSWORD, CALLBACK_USER, TestApp, b64, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::Role;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// The files of a zip of stored files, read as an unzip tool does: from the central directory at
/// the end, each to its local header; every CRC checked.
fn unzip(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let end = zip.len() - 22;
    assert_eq!(u32_at(zip, end), 0x0605_4b50, "end of central directory");
    let (count, mut at) = (u16_at(zip, end + 10), u32_at(zip, end + 16));
    let mut files = BTreeMap::new();
    for _ in 0..count {
        assert_eq!(u32_at(zip, at), 0x0201_4b50, "central directory entry");
        assert_eq!(u16_at(zip, at + 10), 0, "stored, not compressed");
        let (crc, size) = (u32_at(zip, at + 16), u32_at(zip, at + 24));
        let name_len = u16_at(zip, at + 28);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        let local = u32_at(zip, at + 42);
        assert_eq!(u32_at(zip, local), 0x0403_4b50, "local header of {name}");
        let data_at = local + 30 + u16_at(zip, local + 26) + u16_at(zip, local + 28);
        let data = zip[data_at..data_at + size].to_vec();
        assert_eq!(crc32fast::hash(&data) as usize, crc, "CRC of {name}");
        files.insert(name, data);
        at += 46 + name_len + u16_at(zip, at + 30) + u16_at(zip, at + 32);
    }
    files
}

fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_commands_evidence_holds_every_body_as_stored_and_a_manifest_that_checks() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let body = sign_body(&unique("hold-evidence-"), 60);
    let (id, command_id) = app.sent(&operator, "sign", body.clone()).await;
    // Spacing of Hermod's own, kept byte for byte.
    let callback = format!(
        "{{\"commandId\": {command_id},  \"state\": \"COMPLETED\",\n \"result\": {{\"tbs\": [{{\"key\": \
         \"t\", \"content_type\": \"text/plain\", \"content_encoding\": \"base64\", \"data\": \"{}\"}}]}}}}",
        b64("Kept as evidence")
    );
    let auth = Some((CALLBACK_USER, CALLBACK_PASSWORD));
    let stored = app
        .callback(
            "/clients/idm/rest/callback/sign",
            auth,
            "application/json",
            callback.clone(),
        )
        .await
        .expect(200)
        .json();
    let callback_id = stored["id"].as_i64().unwrap();
    let polled = app
        .call(
            Method::POST,
            &format!("/api/commands/{id}/poll"),
            &operator,
            None,
        )
        .await
        .expect(200)
        .json();
    let poll_id = polled["poll"]["id"].as_i64().unwrap();

    let viewer = app.session(Role::Viewer).await;
    let answer = app
        .call(
            Method::GET,
            &format!("/api/commands/{id}/evidence"),
            &viewer,
            None,
        )
        .await
        .expect(200);
    assert_eq!(answer.header("content-type"), Some("application/zip"));
    let disposition = format!("attachment; filename=\"command-{id}-evidence.zip\"");
    assert_eq!(
        answer.header("content-disposition"),
        Some(disposition.as_str())
    );
    let files = unzip(&answer.body);

    // The manifest names every other file with its size and hash.
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["command"], id);
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len() - 1);
    for f in listed {
        let name = f["name"].as_str().unwrap();
        let data = files
            .get(name)
            .unwrap_or_else(|| panic!("{name} is in the zip"));
        assert_eq!(f["bytes"], data.len(), "{name}");
        assert_eq!(f["sha256"], hex_sha256(data), "{name}");
    }

    // Bodies as stored: the callback byte for byte, the request as sent, Hermod's answers.
    let dir = format!("callbacks/{callback_id}");
    assert_eq!(files[&format!("{dir}/body.json")], callback.as_bytes());
    let received: Value = serde_json::from_slice(&files[&format!("{dir}/received.json")]).unwrap();
    assert_eq!(received["path"], "/clients/idm/rest/callback/sign");
    assert!(
        received.get("body").is_none(),
        "the body is a file of its own"
    );
    let request: Value = serde_json::from_slice(&files["request.json"]).unwrap();
    assert_eq!(request, body);
    for name in ["answer/reply.json", "answer/body.json", "command.json"] {
        assert!(files.contains_key(name), "{name} in {:?}", files.keys());
    }
    let poll_dir = format!("polls/{poll_id}");
    assert!(files.contains_key(&format!("{poll_dir}/reply.json")));
    assert!(files.contains_key(&format!("{poll_dir}/body.json")));

    // What was decoded, step by step, and the audit entries about the command.
    let decoded: Value = serde_json::from_slice(&files["decoded.json"]).unwrap();
    let of_callback = decoded
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["step"] == dir.as_str())
        .expect("the callback's decoded items");
    assert_eq!(
        of_callback["decoded"][0]["decoded"]["text"]["text"],
        "Kept as evidence"
    );
    assert!(
        decoded
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["step"] == "request")
    );
    let audit: Vec<Value> = serde_json::from_slice(&files["audit.json"]).unwrap();
    let actions: Vec<&str> = audit.iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(actions, ["command_sent", "poll"]);

    app.call(Method::GET, "/api/commands/999999/evidence", &viewer, None)
        .await
        .expect_problem(404, Some("not_found"), None);
}
