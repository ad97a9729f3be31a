//! Issued access and refresh tokens: minting, checking, expiry and single-use rotation.

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
    Unknown,
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
    expires_at: Instant,
    used: bool,
}

/// All tokens the sandbox has issued, kept after expiry so that "expired" and "unknown"
/// stay distinguishable.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    access: HashMap<String, Entry>,
    refresh: HashMap<String, Entry>,
}

impl TokenStore {
    /// Mints a new random access token.
    pub(crate) fn issue_access(
        &mut self,
        platform: Platform,
        grant: Grant,
        ttl: Duration,
    ) -> String {
        let token = mint(platform, "at");
        self.access
            .insert(token.clone(), entry(platform, grant, ttl));
        token
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
    Entry {
        platform,
        grant,
        expires_at: Instant::now() + ttl,
        used: false,
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
        let token = store.issue_access(Platform::Tibco, grant(), Duration::from_secs(60));
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
