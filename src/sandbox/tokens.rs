//! Issued access and refresh tokens: minting, checking, expiry, revocation and single-use
//! rotation; and, for each grant, whether the token it replaces was due for replacement.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Which platform a token belongs to; a token of one platform means nothing to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Platform {
    Tibco,
    Ibm,
    Oracle,
}

impl Platform {
    fn prefix(self) -> &'static str {
        match self {
            Self::Tibco => "tci",
            Self::Ibm => "ibm",
            Self::Oracle => "oic",
        }
    }
}

/// Who a token was issued to: the subject (organization, user, client) and the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub subject: String,
    pub client_id: String,
}

/// The outcome of presenting an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccessCheck {
    Valid(Grant),
    Expired,
    /// Revoked by an injected `revoke` fault before it expired.
    Revoked,
    Unknown,
}

/// What a new access token replaced: nothing (the client's first), or the client's previous
/// token, which was `due` when it had expired, was revoked, or had lived half its lifetime —
/// the point from which a client is expected to renew. A grant that replaces a token that was
/// not due is one a careful client would not have made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replaced {
    First,
    Due,
    Early,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefreshCheck {
    Valid(Grant),
    /// Already exchanged once (rotation makes every refresh token single use).
    Used,
    Expired,
    Unknown,
}

#[derive(Debug)]
struct Entry {
    platform: Platform,
    grant: Grant,
    issued_at: Instant,
    expires_at: Instant,
    used: bool,
    revoked: bool,
}

impl Entry {
    fn due(&self, now: Instant) -> bool {
        self.revoked || now >= self.issued_at + (self.expires_at - self.issued_at) / 2
    }
}

/// All tokens the sandbox has issued, kept after expiry so that "expired" and "unknown"
/// stay distinguishable.
///
/// Refresh tokens also carry who they were issued to and when they expire, sealed with a key
/// derived from the sandbox's data: a sandbox started again with the same data honours a
/// refresh token an earlier one issued (once, like any other), as a real provider that keeps
/// its tokens across restarts would. Without that, a token store filled against one sandbox
/// would be useless against the next.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    access: HashMap<String, Entry>,
    refresh: HashMap<String, Entry>,
    /// The newest access token of each platform, client and subject.
    newest: HashMap<(Platform, String, String), String>,
    key: [u8; 32],
}

impl TokenStore {
    /// A store whose refresh tokens are sealed with a key derived from `secret`.
    pub(crate) fn keyed(secret: &str) -> TokenStore {
        let key = Sha256::new()
            .chain_update(b"whisk sandbox refresh tokens\0")
            .chain_update(secret.as_bytes())
            .finalize()
            .into();
        TokenStore {
            key,
            ..TokenStore::default()
        }
    }

    /// Mints a new random access token, and says what it replaced.
    pub(crate) fn issue_access(
        &mut self,
        platform: Platform,
        grant: Grant,
        ttl: Duration,
    ) -> (String, Replaced) {
        let token = mint(platform, "at");
        let now = Instant::now();
        let holder = (platform, grant.client_id.clone(), grant.subject.clone());
        let replaced = match self.newest.insert(holder, token.clone()) {
            None => Replaced::First,
            Some(previous) => match self.access.get(&previous) {
                Some(entry) if !entry.due(now) => Replaced::Early,
                _ => Replaced::Due,
            },
        };
        self.access
            .insert(token.clone(), entry(platform, grant, ttl));
        (token, replaced)
    }

    /// Revokes every access token issued before `spare` ago; returns how many were still
    /// valid.
    pub(crate) fn revoke_all_access(&mut self, now: Instant, spare: Duration) -> usize {
        let mut revoked = 0;
        for entry in self.access.values_mut() {
            if entry.issued_at + spare > now {
                continue;
            }
            if !entry.revoked && now < entry.expires_at {
                revoked += 1;
            }
            entry.revoked = true;
        }
        revoked
    }

    /// Mints a new random refresh token.
    pub(crate) fn issue_refresh(
        &mut self,
        platform: Platform,
        grant: Grant,
        ttl: Duration,
    ) -> String {
        let expires = SystemTime::now() + ttl;
        let token = self.seal(platform, &grant, expires);
        self.seed_refresh(&token, platform, grant, ttl);
        token
    }

    /// `<platform>-rt-<payload>.<seal>`: the payload is the grant, the expiry and a nonce.
    fn seal(&self, platform: Platform, grant: &Grant, expires: SystemTime) -> String {
        let expires_ms = expires
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let payload = serde_json::json!({
            "s": grant.subject,
            "c": grant.client_id,
            "e": expires_ms,
            "n": uuid::Uuid::new_v4().simple().to_string(),
        });
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let seal = self.digest(platform, &payload);
        format!("{}-rt-{payload}.{seal}", platform.prefix())
    }

    /// A keyed SHA-256 of the payload. Not an HMAC: the payload is JSON read back whole, so an
    /// extension attack yields nothing parseable, and this is an emulator's token, not a bank's.
    fn digest(&self, platform: Platform, payload: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.key)
            .chain_update(platform.prefix())
            .chain_update(payload)
            .finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The grant and remaining lifetime of a sealed refresh token this store did not issue,
    /// when its seal holds.
    fn unseal(&self, platform: Platform, token: &str) -> Option<(Grant, Option<Duration>)> {
        let rest = token
            .strip_prefix(platform.prefix())?
            .strip_prefix("-rt-")?;
        let (payload, seal) = rest.rsplit_once('.')?;
        if self.digest(platform, payload) != seal {
            return None;
        }
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let grant = Grant {
            subject: json["s"].as_str()?.to_owned(),
            client_id: json["c"].as_str()?.to_owned(),
        };
        let expires = UNIX_EPOCH + Duration::from_millis(json["e"].as_u64()?);
        Some((grant, expires.duration_since(SystemTime::now()).ok()))
    }

    /// Registers a refresh token with a known value (the demo's initial one).
    pub(crate) fn seed_refresh(
        &mut self,
        token: &str,
        platform: Platform,
        grant: Grant,
        ttl: Duration,
    ) {
        self.refresh
            .insert(token.to_owned(), entry(platform, grant, ttl));
    }

    pub(crate) fn check_access(
        &self,
        platform: Platform,
        token: &str,
        now: Instant,
    ) -> AccessCheck {
        match self.access.get(token) {
            Some(e) if e.platform != platform => AccessCheck::Unknown,
            Some(e) if now >= e.expires_at => AccessCheck::Expired,
            Some(e) if e.revoked => AccessCheck::Revoked,
            Some(e) => AccessCheck::Valid(e.grant.clone()),
            None => AccessCheck::Unknown,
        }
    }

    /// Checks a refresh token and, when `rotate` is set and it is valid, spends it.
    pub(crate) fn redeem_refresh(
        &mut self,
        platform: Platform,
        token: &str,
        rotate: bool,
        now: Instant,
    ) -> RefreshCheck {
        match self.refresh.get_mut(token) {
            Some(e) if e.platform != platform => RefreshCheck::Unknown,
            Some(e) if e.used => RefreshCheck::Used,
            Some(e) if now >= e.expires_at => RefreshCheck::Expired,
            Some(e) => {
                e.used = rotate;
                RefreshCheck::Valid(e.grant.clone())
            }
            None => match self.unseal(platform, token) {
                Some((_, None)) => RefreshCheck::Expired,
                Some((grant, Some(left))) => {
                    let mut entry = entry(platform, grant.clone(), left);
                    entry.used = rotate;
                    self.refresh.insert(token.to_owned(), entry);
                    RefreshCheck::Valid(grant)
                }
                None => RefreshCheck::Unknown,
            },
        }
    }
}

fn entry(platform: Platform, grant: Grant, ttl: Duration) -> Entry {
    let now = Instant::now();
    Entry {
        platform,
        grant,
        issued_at: now,
        expires_at: now + ttl,
        used: false,
        revoked: false,
    }
}

fn mint(platform: Platform, kind: &str) -> String {
    format!(
        "{}-{kind}-{}",
        platform.prefix(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            subject: "100".to_owned(),
            client_id: "c".to_owned(),
        }
    }

    #[test]
    fn access_tokens_expire_and_stay_within_their_platform() {
        let mut store = TokenStore::default();
        let (token, replaced) =
            store.issue_access(Platform::Tibco, grant(), Duration::from_secs(60));
        assert_eq!(replaced, Replaced::First);
        let now = Instant::now();
        assert_eq!(
            store.check_access(Platform::Tibco, &token, now),
            AccessCheck::Valid(grant())
        );
        assert_eq!(
            store.check_access(Platform::Ibm, &token, now),
            AccessCheck::Unknown
        );
        let later = now + Duration::from_secs(61);
        assert_eq!(
            store.check_access(Platform::Tibco, &token, later),
            AccessCheck::Expired
        );
        assert_eq!(
            store.check_access(Platform::Tibco, "nope", now),
            AccessCheck::Unknown
        );
    }

    #[test]
    fn revoked_tokens_are_refused_and_their_replacement_is_due() {
        let mut store = TokenStore::default();
        let ttl = Duration::from_secs(60);
        let (first, _) = store.issue_access(Platform::Tibco, grant(), ttl);
        let (_, replaced) = store.issue_access(Platform::Tibco, grant(), ttl);
        assert_eq!(replaced, Replaced::Early, "the first had 60 s to go");
        let now = Instant::now();
        assert_eq!(store.revoke_all_access(now, Duration::ZERO), 2);
        assert_eq!(
            store.check_access(Platform::Tibco, &first, now),
            AccessCheck::Revoked
        );
        let (_, replaced) = store.issue_access(Platform::Tibco, grant(), ttl);
        assert_eq!(replaced, Replaced::Due);
        let short = Duration::from_millis(20);
        let (_, _) = store.issue_access(Platform::Ibm, grant(), short);
        std::thread::sleep(Duration::from_millis(11));
        let (_, replaced) = store.issue_access(Platform::Ibm, grant(), short);
        assert_eq!(replaced, Replaced::Due, "past half its lifetime");
    }

    #[test]
    fn rotation_spends_a_refresh_token_once() {
        let mut store = TokenStore::default();
        store.seed_refresh("seed", Platform::Tibco, grant(), Duration::from_secs(60));
        let now = Instant::now();
        let first = store.redeem_refresh(Platform::Tibco, "seed", true, now);
        assert_eq!(first, RefreshCheck::Valid(grant()));
        let again = store.redeem_refresh(Platform::Tibco, "seed", true, now);
        assert_eq!(again, RefreshCheck::Used);
        let kept = store.issue_refresh(Platform::Ibm, grant(), Duration::from_secs(60));
        for _ in 0..2 {
            let check = store.redeem_refresh(Platform::Ibm, &kept, false, now);
            assert_eq!(check, RefreshCheck::Valid(grant()));
        }
        let late = now + Duration::from_secs(61);
        assert_eq!(
            store.redeem_refresh(Platform::Ibm, &kept, false, late),
            RefreshCheck::Expired
        );
    }

    #[test]
    fn a_store_with_the_same_key_honours_a_sealed_refresh_token_once() {
        let ttl = Duration::from_secs(60);
        let mut before = TokenStore::keyed("secret");
        let token = before.issue_refresh(Platform::Tibco, grant(), ttl);
        let now = Instant::now();
        let mut after = TokenStore::keyed("secret");
        assert_eq!(
            after.redeem_refresh(Platform::Tibco, &token, true, now),
            RefreshCheck::Valid(grant())
        );
        assert_eq!(
            after.redeem_refresh(Platform::Tibco, &token, true, now),
            RefreshCheck::Used
        );
        let mut other = TokenStore::keyed("another secret");
        assert_eq!(
            other.redeem_refresh(Platform::Tibco, &token, true, now),
            RefreshCheck::Unknown
        );
        assert_eq!(
            TokenStore::keyed("secret").redeem_refresh(Platform::Ibm, &token, true, now),
            RefreshCheck::Unknown,
            "another platform's token"
        );
        let forged = token.replace("-rt-", "-rt-x");
        assert_eq!(
            TokenStore::keyed("secret").redeem_refresh(Platform::Tibco, &forged, true, now),
            RefreshCheck::Unknown
        );
        let short = before.issue_refresh(Platform::Tibco, grant(), Duration::from_millis(5));
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(
            TokenStore::keyed("secret").redeem_refresh(Platform::Tibco, &short, true, now),
            RefreshCheck::Expired
        );
    }
}
