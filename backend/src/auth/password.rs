//! Password hashing: argon2id, PHC strings in the store. Hashing is slow on purpose, so it runs on a
//! blocking thread, a few at a time.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

/// Passwords shorter than this are refused: the console signs in an organisation's name.
pub const MIN_LENGTH: usize = 12;

#[derive(Clone, Copy, Debug)]
pub struct Cost {
    pub memory_kib: u32,
    pub passes: u32,
}

/// Hashes running at once. Each takes its `memory_kib` (19 MiB by default) for a while: a flood of
/// logins then waits its turn instead of exhausting memory and the blocking threads.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Runs one hash or check on a blocking thread, once a place is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _place = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(|| {
        let done = work();
        give_back();
        done
    })
    .await
    .ok()
}

/// Returns the hash's memory to the system now. The allocator (main.rs) gives freed memory back at
/// the freeing thread's next allocation, and a blocking thread may sit idle for a while: a console
/// that just checked a password would hold its 19 MiB until then.
fn give_back() {
    // SAFETY: mi_collect takes no pointers; under another global allocator (the tests) it finds
    // nothing of its own to free.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

fn hasher(cost: Cost) -> Result<Argon2<'static>, String> {
    let params = Params::new(cost.memory_kib, cost.passes, 1, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash(password: String, cost: Cost) -> Result<String, String> {
    hashing(move || {
        hasher(cost)?
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|| Err("the hashing task failed".into()))
}

/// Checks `password` against a stored hash. With no hash (no such user) it still does the work of a
/// check, so a failed login takes as long whether or not the account exists.
pub async fn verify(password: String, stored: Option<String>, cost: Cost) -> bool {
    hashing(move || match stored {
        Some(stored) => Argon2::default()
            .verify_password(password.as_bytes(), stored.as_str())
            .is_ok(),
        None => {
            if let Ok(h) = hasher(cost) {
                let _ = h.hash_password(password.as_bytes());
            }
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Why a new password is not acceptable, if it is not.
pub fn weakness(password: &str) -> Option<String> {
    (password.chars().count() < MIN_LENGTH)
        .then(|| format!("a password needs at least {MIN_LENGTH} characters"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Cost = Cost {
        memory_kib: 64,
        passes: 1,
    };

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let h = hash("correct horse battery".into(), CHEAP).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery".into(), Some(h.clone()), CHEAP).await);
        assert!(!verify("wrong horse battery".into(), Some(h), CHEAP).await);
        assert!(!verify("anything at all".into(), None, CHEAP).await);
        assert!(weakness("short").is_some());
        assert!(weakness("long enough passphrase").is_none());
    }
}
