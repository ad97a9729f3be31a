//! How a token source and the token store agree: when the stored tokens win over the ones in
//! memory or in the recipe, and what is written back. Pure functions of their inputs.

use crate::store::{Record, seed_digest};

/// What a source holds, as far as the store is concerned.
pub struct Held<'a> {
    /// Whether this source has read the store before.
    pub synced: bool,
    /// The recipe's `refresh_token`, when it has one.
    pub recipe_seed: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
    pub access_token: Option<&'a str>,
}

/// Whether the stored record replaces what the source holds.
///
/// On first use the store wins unless the recipe brings a refresh token the store did not
/// descend from (the person put a new one in the environment): a stale variable never beats a
/// rotated token. Later, the store wins whenever it changed since this source last wrote it,
/// which means another process refreshed in the meantime.
pub fn store_wins(record: Option<&Record>, held: &Held<'_>) -> bool {
    let Some(record) = record else {
        return false;
    };
    if held.synced {
        return record.refresh_token.as_deref() != held.refresh_token
            || record.access_token.as_deref() != held.access_token;
    }
    match (held.recipe_seed, &record.seed_sha256) {
        (None, _) => true,
        // A sign-in (or a grant without a refresh token) wrote it: newer than any recipe token.
        (Some(_), None) => true,
        (Some(seed), Some(digest)) => {
            *digest == seed_digest(seed) || record.refresh_token.as_deref() == Some(seed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::VERSION;

    fn record(refresh: &str, access: &str, seed: Option<&str>) -> Record {
        Record {
            version: VERSION,
            token_url: "u".into(),
            client_id: "c".into(),
            obtained_by: "refresh_token".into(),
            access_token: Some(access.into()),
            expires_at: None,
            expires_at_ms: None,
            lifetime: None,
            lifetime_ms: None,
            refresh_token: Some(refresh.into()),
            seed_sha256: seed.map(seed_digest),
            updated_at: 0,
        }
    }

    fn first(seed: Option<&'static str>) -> Held<'static> {
        Held {
            synced: false,
            recipe_seed: seed,
            refresh_token: seed,
            access_token: None,
        }
    }

    #[test]
    fn nothing_stored_keeps_the_recipe_token() {
        assert!(!store_wins(None, &first(Some("r0"))));
    }

    #[test]
    fn a_stale_seed_never_beats_the_rotated_token() {
        let rotated = record("r7", "a7", Some("r0"));
        assert!(store_wins(Some(&rotated), &first(Some("r0"))));
        assert!(store_wins(Some(&rotated), &first(None)));
    }

    #[test]
    fn a_new_seed_from_the_person_replaces_the_store() {
        let rotated = record("r7", "a7", Some("r0"));
        assert!(!store_wins(Some(&rotated), &first(Some("fresh-r"))));
        assert!(store_wins(Some(&rotated), &first(Some("r7"))));
    }

    #[test]
    fn a_sign_in_beats_any_recipe_token() {
        let login = record("r1", "a1", None);
        assert!(store_wins(Some(&login), &first(Some("old"))));
    }

    #[test]
    fn later_the_store_wins_only_when_another_process_changed_it() {
        let stored = record("r2", "a2", Some("r0"));
        let same = Held {
            synced: true,
            recipe_seed: Some("r0"),
            refresh_token: Some("r2"),
            access_token: Some("a2"),
        };
        assert!(!store_wins(Some(&stored), &same));
        let behind = Held {
            refresh_token: Some("r1"),
            access_token: Some("a1"),
            ..same
        };
        assert!(store_wins(Some(&stored), &behind));
        assert!(
            !store_wins(None, &behind),
            "a removed record changes nothing"
        );
    }
}
