//! The keys: one cached RSA key per size and one P-256 key for the certificate requests (and the
//! transported key), fresh P-256 keys for `dev-pki`, and the CSPRNG everything draws from.

use super::{MaterialError, fail};
use der::Encode;
use rand::SeedableRng as _;
use rand::rngs::{StdRng, SysRng};
use rsa::pkcs1v15;
use rsa::signature::Keypair;
use sha2::Sha256;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

pub(super) type RsaSigner = pkcs1v15::SigningKey<Sha256>;

/// An RSA-2048 SubjectPublicKeyInfo (DER) to hand out as a "transported key". It shares the
/// cached RSA-2048 key with [`pkcs10`](super::pkcs10); nothing is ever encrypted to it.
pub fn transport_key_spki_der() -> Result<Vec<u8>, MaterialError> {
    spki(&rsa_key(2048)?)?
        .to_der()
        .map_err(fail("encoding public key"))
}

/// The process-wide RSA key of the given size. Each size has its own slot so a slow RSA-4096
/// generation does not hold up requests for other sizes.
pub(super) fn rsa_key(bits: usize) -> Result<RsaSigner, MaterialError> {
    type Slot = Arc<Mutex<Option<RsaSigner>>>;
    static SLOTS: OnceLock<Mutex<HashMap<usize, Slot>>> = OnceLock::new();
    let slot = Arc::clone(
        lock(SLOTS.get_or_init(Default::default))
            .entry(bits)
            .or_default(),
    );
    cached(&slot, || {
        RsaSigner::random(&mut rng()?, bits).map_err(fail("generating RSA key"))
    })
}

pub(super) fn p256_key() -> Result<p256::ecdsa::SigningKey, MaterialError> {
    static SLOT: Mutex<Option<p256::ecdsa::SigningKey>> = Mutex::new(None);
    cached(&SLOT, || Ok(new_p256(&mut rng()?)))
}

pub(super) fn new_p256(rng: &mut StdRng) -> p256::ecdsa::SigningKey {
    use p256::elliptic_curve::Generate as _;
    p256::ecdsa::SigningKey::generate_from_rng(rng)
}

/// Generation happens under the slot's lock so that concurrent first requests wait for one key
/// instead of each generating their own.
fn cached<K: Clone>(
    slot: &Mutex<Option<K>>,
    generate: impl FnOnce() -> Result<K, MaterialError>,
) -> Result<K, MaterialError> {
    let mut slot = lock(slot);
    if let Some(key) = &*slot {
        return Ok(key.clone());
    }
    Ok(slot.insert(generate()?).clone())
}

/// `rand::rng()` panics if the OS RNG is unavailable; seeding our own CSPRNG from it turns that
/// into an error instead.
pub(super) fn rng() -> Result<StdRng, MaterialError> {
    StdRng::try_from_rng(&mut SysRng).map_err(fail("seeding RNG"))
}

/// A panic elsewhere while holding the lock cannot leave a half-written key behind (the slot
/// is only assigned a finished key), so poisoning is safe to ignore.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn spki<K>(key: &K) -> Result<SubjectPublicKeyInfoOwned, MaterialError>
where
    K: Keypair,
    K::VerifyingKey: EncodePublicKey,
{
    SubjectPublicKeyInfoOwned::from_key(&key.verifying_key()).map_err(fail("encoding public key"))
}
