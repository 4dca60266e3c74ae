//! Idempotent copies: the rules of the `Idempotency-Key` header (the IETF httpapi draft's name)
//! that do not depend on storage. The store keeps, per user and key, the request's fingerprint
//! and the answer of the copy, written in the copy's own transaction (see
//! [`crate::store::Repository::copy_components`]).

use std::time::Duration;

use sha2::{Digest, Sha256};

/// The longest key accepted, in characters.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a key's answer is remembered unless `serve --idempotency-ttl` says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How many expired keys a keyed copy deletes at most, in its own transaction: each keyed copy
/// removes more expired keys than it adds, so the table holds at most the keys of one lifetime
/// (plus what has not been cleared since traffic stopped).
pub const EXPIRED_DELETED_PER_COPY: i64 = 16;

/// Why a key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The header is empty or longer than [`MAX_KEY_CHARS`].
    #[error("the Idempotency-Key must have 1 to {MAX_KEY_CHARS} characters")]
    Length,
    /// The key holds a character outside `A-Z a-z 0-9 - _ . :`.
    #[error("the Idempotency-Key may only hold the characters A-Z a-z 0-9 - _ . :")]
    Charset,
}

/// `key` if it is a valid idempotency key: 1 to [`MAX_KEY_CHARS`] characters of
/// `A-Z a-z 0-9 - _ . :` (a UUID, a ULID or a `namespace:counter` fit).
pub fn checked_key(key: &str) -> Result<&str, KeyError> {
    if key.is_empty() || key.len() > MAX_KEY_CHARS {
        return Err(KeyError::Length);
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')) {
        return Err(KeyError::Charset);
    }
    Ok(key)
}

/// The fingerprint of a request: the SHA-256 (hex) of its method, its path and its canonical
/// body (the body as parsed, serialised again: field order, spacing and ignored fields do not
/// count).
pub fn fingerprint(method: &str, path: &str, body: &impl serde::Serialize) -> String {
    let body = serde_json::to_string(body).expect("a parsed request body serialises");
    let digest = Sha256::new().chain_update(method).chain_update(b"\n").chain_update(path).chain_update(b"\n");
    crate::fixture::hex(&digest.chain_update(body).finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_in_length_and_charset() {
        assert_eq!(checked_key("0b6f3c1e-3f7a-4c1e-9a57-2f0d8a6c4b11"), Ok("0b6f3c1e-3f7a-4c1e-9a57-2f0d8a6c4b11"));
        assert_eq!(checked_key("deploy:42_a.b"), Ok("deploy:42_a.b"));
        assert_eq!(checked_key(&"k".repeat(MAX_KEY_CHARS)).map(str::len), Ok(MAX_KEY_CHARS));
        assert_eq!(checked_key(&"k".repeat(MAX_KEY_CHARS + 1)), Err(KeyError::Length));
        assert_eq!(checked_key(""), Err(KeyError::Length));
        for bad in ["a b", "a/b", "é", "a\"b", "a,b"] {
            assert_eq!(checked_key(bad), Err(KeyError::Charset), "{bad}");
        }
    }

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let body = serde_json::json!({"a": 1});
        let one = fingerprint("POST", "/x", &body);
        assert_eq!(one, fingerprint("POST", "/x", &body));
        assert_eq!(one.len(), 64);
        assert_ne!(one, fingerprint("PUT", "/x", &body));
        assert_ne!(one, fingerprint("POST", "/y", &body));
        assert_ne!(one, fingerprint("POST", "/x", &serde_json::json!({"a": 2})));
    }
}
