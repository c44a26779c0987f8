//! Accounts: users, password hashing, server-side sessions and API tokens.

pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod verification;

pub use users::User;

/// Current UTC time, truncated to microseconds so both backends store it exactly.
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(t, chrono::TimeDelta::microseconds(1)).unwrap_or(t)
}

/// 32 random bytes as URL-safe base64, for session ids, CSRF secrets and API tokens.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a secret, hex encoded: what the database keeps instead of the secret itself.
pub fn hash_secret(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}
