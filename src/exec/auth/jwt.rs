//! JSON Web Token assertions (RFC 7523): the client assertion of `private_key_jwt` and
//! `client_secret_jwt` client authentication (§2.2) and the assertion of the JWT bearer grant
//! (§2.1). Each token request gets a fresh one — a new `jti`, `iat` now, `exp` a minute later
//! unless the profile says otherwise — signed with aws-lc-rs (already whisk's TLS crypto):
//! RS256, PS256 and ES256 with a PEM private key, HS256 with the client secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use aws_lc_rs::{error::KeyRejected, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::recipe::JwtAlg;

/// What signs an assertion.
pub enum Signer {
    Rs256(RsaKeyPair),
    Ps256(RsaKeyPair),
    Es256(EcdsaKeyPair),
    Hs256(Box<hmac::Key>),
}

impl Signer {
    /// A signer for `alg` (or, without one, the key's usual algorithm: RS256 for RSA, ES256
    /// for P-256) from a PEM private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), unencrypted.
    pub fn from_pem(alg: Option<JwtAlg>, pem: &str) -> Result<Signer, String> {
        if alg == Some(JwtAlg::Hs256) {
            return Err(
                "is a private key, but HS256 signs with the client secret: use `client_auth: client_secret_jwt`, or RS256, PS256 or ES256".into(),
            );
        }
        let der = PrivateKeyDer::from_pem_slice(pem.trim().as_bytes()).map_err(|_| {
            "is not a PEM private key (`-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`; an encrypted key must be decrypted first)".to_string()
        })?;
        let rejected = |e: String| format!("is not a usable key: {e}");
        let why = |e: KeyRejected| e.to_string();
        let p256 = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let rsa = || match &der {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).map_err(why),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()).map_err(why),
            _ => Err("not an RSA key".to_string()),
        };
        let ec = || match &der {
            PrivateKeyDer::Pkcs8(k) => {
                EcdsaKeyPair::from_pkcs8(p256, k.secret_pkcs8_der()).map_err(why)
            }
            PrivateKeyDer::Sec1(k) => {
                EcdsaKeyPair::from_private_key_der(p256, k.secret_sec1_der()).map_err(why)
            }
            _ => Err("not an EC key".to_string()),
        };
        match alg {
            Some(JwtAlg::Rs256) => rsa()
                .map(Signer::Rs256)
                .map_err(|e| format!("{}; RS256 needs an RSA key", rejected(e))),
            Some(JwtAlg::Ps256) => rsa()
                .map(Signer::Ps256)
                .map_err(|e| format!("{}; PS256 needs an RSA key", rejected(e))),
            Some(JwtAlg::Es256) => ec()
                .map(Signer::Es256)
                .map_err(|e| format!("{}; ES256 needs a P-256 key", rejected(e))),
            Some(JwtAlg::Hs256) | None => rsa()
                .map(Signer::Rs256)
                .or_else(|_| ec().map(Signer::Es256))
                .map_err(|_| "is neither an RSA nor a P-256 private key".to_string()),
        }
    }

    /// HS256 keyed with the client secret (`client_secret_jwt`).
    pub fn hs256(secret: &str) -> Signer {
        Signer::Hs256(Box::new(hmac::Key::new(
            hmac::HMAC_SHA256,
            secret.as_bytes(),
        )))
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Signer::Rs256(_) => "RS256",
            Signer::Ps256(_) => "PS256",
            Signer::Es256(_) => "ES256",
            Signer::Hs256(_) => "HS256",
        }
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        let rsa = |key: &RsaKeyPair, padding: &'static dyn signature::RsaEncoding| {
            let mut out = vec![0; key.public_modulus_len()];
            key.sign(padding, &rng, input, &mut out).map(|()| out)
        };
        match self {
            Signer::Rs256(key) => rsa(key, &signature::RSA_PKCS1_SHA256),
            Signer::Ps256(key) => rsa(key, &signature::RSA_PSS_SHA256),
            Signer::Es256(key) => key.sign(&rng, input).map(|s| s.as_ref().to_vec()),
            Signer::Hs256(key) => Ok(hmac::sign(key, input).as_ref().to_vec()),
        }
        .map_err(|_| "signing the assertion failed".to_string())
    }
}

/// How a profile's assertions are made.
pub struct Assertion {
    /// `Err`: why the key cannot sign (said when an assertion is needed, before any request).
    pub signer: Result<Signer, String>,
    /// The algorithm the profile names, if it names one.
    pub alg: Option<JwtAlg>,
    pub kid: Option<String>,
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    /// Claims besides the registered ones (`scope`, ...).
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub lifetime: Duration,
}

impl Assertion {
    /// The algorithm, as far as it is known without the key: `RS256`, or `RS256 or ES256`.
    pub fn alg_name(&self) -> &'static str {
        match (&self.signer, self.alg) {
            (Ok(signer), _) => signer.alg(),
            (Err(_), Some(JwtAlg::Rs256)) => "RS256",
            (Err(_), Some(JwtAlg::Ps256)) => "PS256",
            (Err(_), Some(JwtAlg::Es256)) => "ES256",
            (Err(_), Some(JwtAlg::Hs256)) => "HS256",
            (Err(_), None) => "RS256 or ES256, by the key",
        }
    }

    /// A new signed assertion: compact JWS of the header and the claims.
    pub fn sign(&self) -> Result<String, String> {
        let signer = self.signer.as_ref().map_err(Clone::clone)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let mut header = serde_json::json!({ "alg": signer.alg(), "typ": "JWT" });
        if let Some(kid) = &self.kid {
            header["kid"] = kid.clone().into();
        }
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), self.issuer.clone().into());
        claims.insert("sub".into(), self.subject.clone().into());
        claims.insert("aud".into(), self.audience.clone().into());
        claims.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
        claims.insert("iat".into(), now.into());
        claims.insert("nbf".into(), now.into());
        claims.insert("exp".into(), (now + self.lifetime.as_secs().max(1)).into());
        for (name, value) in &self.claims {
            claims.insert(name.clone(), value.clone());
        }
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(serde_json::Value::Object(claims).to_string())
        );
        let signature = signer.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", B64.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{KeyPair, UnparsedPublicKey};

    fn assertion(signer: Signer) -> Assertion {
        Assertion {
            signer: Ok(signer),
            alg: None,
            kid: Some("k1".into()),
            issuer: "client".into(),
            subject: "client".into(),
            audience: "https://idp/token".into(),
            claims: serde_json::Map::from_iter([("scope".to_string(), "a b".into())]),
            lifetime: Duration::from_secs(60),
        }
    }

    fn parts(jwt: &str) -> (serde_json::Value, serde_json::Value, Vec<u8>, String) {
        let pieces: Vec<&str> = jwt.split('.').collect();
        assert_eq!(pieces.len(), 3, "{jwt}");
        let json = |p: &str| serde_json::from_slice(&B64.decode(p).unwrap()).unwrap();
        (
            json(pieces[0]),
            json(pieces[1]),
            B64.decode(pieces[2]).unwrap(),
            format!("{}.{}", pieces[0], pieces[1]),
        )
    }

    #[test]
    fn es256_assertions_verify_with_the_public_key_and_carry_rfc_7523_claims() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let pem = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pem.secret_pkcs8_der())
        );
        let signer = Signer::from_pem(None, &pem).unwrap();
        assert_eq!(signer.alg(), "ES256");
        let public =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec();
        let made = assertion(signer);
        let first = made.sign().unwrap();
        let (header, claims, sig, input) = parts(&first);
        assert_eq!(
            header,
            serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "k1"})
        );
        assert_eq!(claims["iss"], "client");
        assert_eq!(claims["aud"], "https://idp/token");
        assert_eq!(claims["scope"], "a b");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            60
        );
        assert_eq!(sig.len(), 64, "R||S, not DER");
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &public)
            .verify(input.as_bytes(), &sig)
            .expect("the signature verifies");
        let (_, again, _, _) = parts(&made.sign().unwrap());
        assert_ne!(claims["jti"], again["jti"], "a new jti each time");
    }

    #[test]
    fn hs256_is_the_hmac_of_the_input_with_the_secret() {
        let made = assertion(Signer::hs256("a secret of at least thirty-two bytes!"));
        let (header, _, sig, input) = parts(&made.sign().unwrap());
        assert_eq!(header["alg"], "HS256");
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"a secret of at least thirty-two bytes!");
        hmac::verify(&key, input.as_bytes(), &sig).expect("the tag verifies");
    }

    #[test]
    fn unusable_keys_say_why() {
        let not_pem = Signer::from_pem(None, "hunter2").err().unwrap();
        assert!(not_pem.starts_with("is not a PEM private key"), "{not_pem}");
        assert!(!not_pem.contains("hunter2"));
        let hs = Signer::from_pem(Some(JwtAlg::Hs256), "x").err().unwrap();
        assert!(hs.contains("HS256 signs with the client secret"), "{hs}");
    }
}
