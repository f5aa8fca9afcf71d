//! Configuration files as the console and the simulator read them: TOML, every key overridable from
//! the environment as `<PREFIX>SECTION__KEY`, each key checked against the type it fills, errors naming
//! the key; secrets held in [`Secret`], which never prints. Each program has its own prefix and types
//! (`backend/src/config/mod.rs`, `simulator/src/config.rs`); what reads and overrides the text is here
//! so both read their files the same way.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A value that must never be printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(s: impl Into<Arc<str>>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_string(d).map(Secret::new)
    }
}

/// An environment value like `1234` arrives as a number; where a string is meant, take it as one.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        S(String),
        I(i64),
        F(f64),
        B(bool),
    }
    Ok(match Scalar::deserialize(d)? {
        Scalar::S(s) => s,
        Scalar::I(i) => i.to_string(),
        Scalar::F(f) => f.to_string(),
        Scalar::B(b) => b.to_string(),
    })
}

/// For an optional text field, with `#[serde(deserialize_with = "lenient_opt_string")]`.
pub fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    lenient_string(d).map(Some)
}

/// Why a configuration was refused, in words for the operator (the file, the key, the reason).
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Reads `path` and hands its text, with the process's environment for the overrides, to `parse`;
/// every error names the file.
pub fn load<T>(
    path: &Path,
    parse: impl FnOnce(&str, std::env::Vars) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    parse(&text, std::env::vars()).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
}

/// Parses TOML `text`, lays the environment's `<prefix>SECTION__KEY` variables over it, and checks
/// every key against `T`; errors name the key's path.
pub fn parse_with_env<T: serde::de::DeserializeOwned>(
    text: &str,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
    apply_env(&mut table, prefix, env)?;
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let inner = inner.trim();
        if path == "." {
            ConfigError(inner.to_string())
        } else {
            ConfigError(format!("{path}: {inner}"))
        }
    })
}

/// `HERMOD_CONSOLE__CLIENTS__IDM__KEY_FILE=/run/secrets/idm` sets `clients.idm.key_file`. Values are read
/// as TOML literals when they parse as one (`15`, `true`, `["a"]`), else as strings.
fn apply_env(
    table: &mut toml::Table,
    prefix: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(ConfigError(format!("{name}: empty key segment")));
        }
        let value = env_value(raw);
        let mut cur = &mut *table;
        for seg in &path[..path.len() - 1] {
            let entry = cur
                .entry(seg.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            cur = entry
                .as_table_mut()
                .ok_or_else(|| ConfigError(format!("{name}: {seg} is not a table")))?;
        }
        cur.insert(path[path.len() - 1].clone(), value);
    }
    Ok(())
}

/// An environment value as TOML: a number or boolean only where it reads back exactly as written
/// (so a secret like `1_000`, `0x1F` or `nan` stays the string it is), an array or table where it
/// parses as one, else the text itself.
fn env_value(raw: String) -> toml::Value {
    let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"));
    let faithful = match &parsed {
        Some(toml::Value::Integer(i)) => i.to_string() == raw,
        Some(toml::Value::Float(f)) => f.is_finite() && f.to_string() == raw,
        Some(toml::Value::Boolean(b)) => b.to_string() == raw,
        Some(toml::Value::Array(_) | toml::Value::Table(_)) => true,
        _ => false,
    };
    match parsed {
        Some(value) if faithful => value,
        _ => toml::Value::String(raw),
    }
}
