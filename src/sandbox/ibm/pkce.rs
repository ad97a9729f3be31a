//! PKCE (RFC 7636) with the S256 method: checking a challenge's shape and a verifier against it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Whether `value` is 43 to 128 characters of `[A-Za-z0-9-._~]` (verifier and S256 challenge).
pub(crate) fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `BASE64URL(SHA256(verifier)) == challenge`.
pub(crate) fn verifies(verifier: &str, challenge: &str) -> bool {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(well_formed(verifier) && well_formed(challenge));
        assert!(verifies(verifier, challenge));
        assert!(!verifies("x", challenge));
        assert!(!well_formed("short"));
        assert!(!well_formed(&"a+".repeat(30)));
    }
}
