//! The JWT client assertion Oracle Identity Domains accept from a confidential application
//! with a registered certificate (`private_key_jwt`, RFC 7523 §2.2): RS256, signed with the
//! client's key; `iss` and `sub` the client id; `aud` `https://identity.oraclecloud.com/`;
//! `exp` in the future; each `jti` once.

use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::sandbox::data::OracleData;

pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audience Identity Domains ask client assertions for.
pub(crate) const AUDIENCE: &str = "https://identity.oraclecloud.com/";

/// The public half of the sandbox client's registered key.
pub(crate) fn public_key(data: &OracleData) -> Option<Vec<u8>> {
    let der = PrivateKeyDer::from_pem_slice(data.client_key.as_bytes()).ok()?;
    let PrivateKeyDer::Pkcs8(key) = der else {
        return None;
    };
    let pair = RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).ok()?;
    Some(pair.public_key().as_ref().to_vec())
}

/// Checks an assertion; `Ok(jti)` when it is the client's, current and for this audience.
pub(crate) fn verify(
    data: &OracleData,
    public_key: &[u8],
    jwt: &str,
    now: u64,
) -> Result<String, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("the client assertion is not a signed JWT (three dot-separated parts)".into());
    };
    let json = |part: &str| -> Result<serde_json::Value, String> {
        let bytes = B64
            .decode(part)
            .map_err(|_| "the client assertion is not base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "the client assertion is not JSON".to_string())
    };
    let header = json(header)?;
    if header["alg"] != "RS256" {
        return Err(format!(
            "the client assertion must be signed with RS256, not {}",
            header["alg"]
        ));
    }
    let signature = B64
        .decode(signature)
        .map_err(|_| "the client assertion's signature is not base64url".to_string())?;
    let input = &jwt[..jwt.rfind('.').unwrap_or(0)];
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| {
            "the client assertion's signature does not verify with the client's certificate"
                .to_string()
        })?;
    let claims = json(claims)?;
    for claim in ["iss", "sub"] {
        if claims[claim] != data.client_id.as_str() {
            return Err(format!(
                "the client assertion's `{claim}` is not the client id"
            ));
        }
    }
    let audience_ok = match &claims["aud"] {
        serde_json::Value::String(aud) => aud == AUDIENCE,
        serde_json::Value::Array(auds) => auds.iter().any(|a| a == AUDIENCE),
        _ => false,
    };
    if !audience_ok {
        return Err(format!("the client assertion's `aud` must be `{AUDIENCE}`"));
    }
    match claims["exp"].as_u64() {
        Some(exp) if exp > now => {}
        Some(_) => return Err("the client assertion has expired".into()),
        None => return Err("the client assertion has no `exp`".into()),
    }
    claims["jti"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the client assertion has no `jti`".into())
}
