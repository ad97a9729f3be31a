//! Issued access and refresh tokens: minting, checking, expiry, revocation and single-use
//! rotation; and, for each grant, whether the token it replaces was due for replacement.

use std::collections::HashMap;
use std::time::{Duration, Instant};

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
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    access: HashMap<String, Entry>,
    refresh: HashMap<String, Entry>,
    /// The newest access token of each platform, client and subject.
    newest: HashMap<(Platform, String, String), String>,
}

impl TokenStore {
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

    /// Revokes every access token issued so far; returns how many were still valid.
    pub(crate) fn revoke_all_access(&mut self, now: Instant) -> usize {
        let mut revoked = 0;
        for entry in self.access.values_mut() {
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
        let token = mint(platform, "rt");
        self.seed_refresh(&token, platform, grant, ttl);
        token
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
            None => RefreshCheck::Unknown,
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
        assert_eq!(store.revoke_all_access(now), 2);
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
}
