//! TLS client certificates (mutual TLS): a certificate chain and its key from PEM, for the
//! direct client (rustls) and reqwest alike. Each identity has an id, so that connections made
//! with one certificate are never reused for requests that should present another.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::plan::{CertPlan, Templates};

/// A client certificate chain and its private key.
pub struct Identity {
    /// Tells identities apart: a digest of the certificate and the key.
    pub id: u64,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// Key and certificates in one PEM, as reqwest reads them.
    pem: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({:016x})", self.id)
    }
}

impl Identity {
    /// The identity of a PEM certificate chain (leaf first) and a PEM private key; the error
    /// says which part is wrong, never what it holds.
    pub fn from_pem(cert: &str, key: &str) -> Result<Identity, String> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|_| "`cert` is not PEM certificates".to_string())?;
        if chain.is_empty() {
            return Err("`cert` holds no certificate (`-----BEGIN CERTIFICATE-----`)".to_string());
        }
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|_| {
            "`key` is not a PEM private key (PKCS#8, RSA or EC; an encrypted key must be decrypted first)".to_string()
        })?;
        // Refuse a key that does not fit the certificate now, not at the first handshake.
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| format!("`key` is not a usable private key: {e}"))?;
        rustls::sign::CertifiedKey::new(chain.clone(), signing)
            .keys_match()
            .map_err(|_| "`key` is not the private key of the certificate in `cert`".to_string())?;
        let mut digest = Sha256::new();
        for cert in &chain {
            digest.update(cert.as_ref());
        }
        digest.update(key.secret_der());
        let id = u64::from_be_bytes(digest.finalize()[..8].try_into().unwrap_or_default());
        let mut pem = key_pem(key.secret_der(), &key).into_bytes();
        pem.extend_from_slice(cert.trim().as_bytes());
        pem.push(b'\n');
        Ok(Identity {
            id,
            chain,
            key,
            pem,
        })
    }

    /// The chain and key, for rustls.
    pub fn rustls(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.chain.clone(), self.key.clone_key())
    }

    /// The identity for reqwest.
    pub fn reqwest(&self) -> Result<reqwest::Identity, String> {
        reqwest::Identity::from_pem(&self.pem)
            .map_err(|e| format!("the client certificate is not usable: {e}"))
    }
}

/// The key again as PEM, under the label its format has.
fn key_pem(der: &[u8], key: &PrivateKeyDer<'_>) -> String {
    use base64::Engine;
    let label = match key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    };
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Renders and parses `plan` with `ctx` (inputs and secrets): `where_` names it in errors.
pub fn render(
    plan: &CertPlan,
    templates: &Templates,
    ctx: &minijinja::Value,
    where_: &str,
) -> Result<Arc<Identity>, String> {
    let text = |tpl, part: &str| {
        templates
            .text(tpl, ctx)
            .map_err(|e| format!("{where_}: cannot render `{part}`: {e}"))
    };
    let cert = text(&plan.cert, "cert")?;
    let key = text(&plan.key, "key")?;
    Identity::from_pem(&cert, &key)
        .map(Arc::new)
        .map_err(|why| format!("{where_}: {why}"))
}
