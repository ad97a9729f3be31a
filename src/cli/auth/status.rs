//! `whisk auth status [RECIPE]`: per stored key, where the file is, whether a refresh token is
//! held and when the access token expires. Never a token.

use std::fmt::Write as _;
use std::io::Write as _;

use super::super::Exit;
use super::{StatusArgs, problem, stored_profiles};
use crate::diagnostic::Console;
use crate::recipe::Grant;
use crate::store::{Record, TokenStore, unix_now};

pub async fn status(args: &StatusArgs, console: &Console, store: &TokenStore) -> Exit {
    let mut text = format!("token store: {}\n", store.place());
    let mut exit = Exit::Success;
    match &args.recipe {
        Some(path) => {
            let plan = match crate::plan::load_and_build(path) {
                Ok(plan) => plan,
                Err(problems) => {
                    console.problems(&problems);
                    return Exit::Invalid;
                }
            };
            let profiles = stored_profiles(&plan);
            if profiles.is_empty() {
                let _ = writeln!(
                    text,
                    "recipe `{}` has no auth profile with `store:`",
                    plan.root.name
                );
            }
            for (profile, key, grant) in profiles {
                let _ = writeln!(text, "\nprofile `{profile}`, key `{key}`");
                let empty = match grant {
                    Grant::AuthorizationCode | Grant::DeviceCode => format!(
                        "nothing stored: sign in with `whisk auth login {} {profile}`",
                        path.display()
                    ),
                    _ => "nothing stored yet: the first run stores its tokens".to_string(),
                };
                if !describe(&mut text, store, &key, &empty).await {
                    exit = Exit::Failed;
                }
            }
        }
        None => match store.keys().await {
            Ok(keys) if keys.is_empty() => text.push_str("no stored tokens\n"),
            Ok(keys) => {
                for key in keys {
                    let _ = writeln!(text, "\nkey `{key}`");
                    if !describe(&mut text, store, &key, "nothing stored").await {
                        exit = Exit::Failed;
                    }
                }
            }
            Err(error) => {
                console.problem(problem(error.to_string()));
                return Exit::Failed;
            }
        },
    }
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    exit
}

/// Appends what `key` holds; `false` when its file cannot be read.
async fn describe(text: &mut String, store: &TokenStore, key: &str, empty: &str) -> bool {
    match store.file_of(key) {
        Some(file) => writeln!(text, "  file: {}", file.display()),
        None => writeln!(text, "  row: {}", store.place_of(key)),
    }
    .unwrap_or_default();
    match store.read(key).await {
        Ok(Some(record)) => {
            summary(text, &record, unix_now());
            true
        }
        Ok(None) => {
            let _ = writeln!(text, "  {empty}");
            true
        }
        Err(error) => {
            let _ = writeln!(text, "  error: {error}");
            false
        }
    }
}

fn summary(text: &mut String, record: &Record, now: u64) {
    let _ = writeln!(text, "  token URL: {}", record.token_url);
    let held = if record.refresh_token.is_some() {
        "held"
    } else {
        "none"
    };
    let _ = writeln!(text, "  refresh token: {held}");
    let access = match (&record.access_token, record.expires_at) {
        (None, _) => "none".to_string(),
        (Some(_), None) => "held, expiry unknown".to_string(),
        (Some(_), Some(at)) if at > now => {
            format!("valid until {} (for {})", time_of(at), span(at - now))
        }
        (Some(_), Some(at)) => format!("expired at {} ({} ago)", time_of(at), span(now - at)),
    };
    let _ = writeln!(text, "  access token: {access}");
    let _ = writeln!(
        text,
        "  obtained by: {}, written {}",
        record.obtained_by,
        time_of(record.updated_at)
    );
}

/// A span of seconds as a person reads it: `45 s`, `12 min`, `1 h 59 min`, `89 d 23 h`.
fn span(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

fn time_of(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .map(crate::report::timestamp)
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_hours_and_minutes() {
        assert_eq!(span(45), "45 s");
        assert_eq!(span(12 * 60 + 5), "12 min");
        assert_eq!(span(7200), "2 h");
        assert_eq!(span(7199), "1 h 59 min");
        assert_eq!(span(90 * 86_400 - 1), "89 d 23 h");
        assert_eq!(span(3 * 86_400 + 60), "3 d");
    }

    #[test]
    fn summaries_never_show_tokens() {
        let record = Record {
            version: crate::store::VERSION,
            token_url: "https://idp.example/token".into(),
            client_id: "c".into(),
            obtained_by: "authorization_code".into(),
            access_token: Some("at-secret".into()),
            expires_at: Some(1_000_100),
            expires_at_ms: None,
            lifetime: Some(7200),
            lifetime_ms: None,
            refresh_token: Some("rt-secret".into()),
            seed_sha256: None,
            updated_at: 1_000_000,
        };
        let mut text = String::new();
        summary(&mut text, &record, 1_000_000);
        assert!(text.contains("refresh token: held"), "{text}");
        assert!(text.contains("(for 1 min)"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
}
