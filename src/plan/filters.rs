//! The template filters recipes need beyond minijinja's own: `b64encode`, `b64decode`,
//! `fromjson`, `sha256`, `now`, `uuid` (`urlencode` and `tojson` are minijinja's).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use minijinja::{Environment, Error, ErrorKind, Value};
use sha2::{Digest, Sha256};

use super::template::to_value;
use crate::redact::Redactor;

/// Registers the extra filters (and `now()` / `uuid()` as functions too).
///
/// Encoding a value that holds a secret yields a new sensitive value: `redactor` learns it so
/// that the encoded form is masked like the secret itself.
pub fn register(env: &mut Environment<'static>, redactor: &Redactor) {
    env.add_function("range", super::range::range);
    env.add_filter("urlencode", urlencode);
    let learner = redactor.clone();
    env.add_filter("b64encode", move |value: String| {
        let encoded = STANDARD.encode(value.as_bytes());
        if learner.touches(&value) {
            learner.add_derived(&encoded);
        }
        encoded
    });
    env.add_filter("b64decode", |value: String| -> Result<String, Error> {
        let bytes = STANDARD
            .decode(value.trim())
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("b64decode: {e}")))?;
        String::from_utf8(bytes).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "b64decode: the decoded bytes are not UTF-8 text",
            )
        })
    });
    env.add_filter("fromjson", |value: String| -> Result<Value, Error> {
        let parsed: serde_json::Value = serde_json::from_str(&value)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("fromjson: {e}")))?;
        Ok(to_value(&parsed))
    });
    let learner = redactor.clone();
    env.add_filter("sha256", move |value: String| {
        let digest = Sha256::digest(value.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        if learner.touches(&value) {
            learner.add_derived(&hex);
        }
        hex
    });
    env.add_filter("now", |_: Value| now());
    env.add_filter("uuid", |_: Value| uuid());
    env.add_function("now", now);
    env.add_function("uuid", uuid);
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The prefix a dry run's stand-in for `urlencode` of a secret starts with: the dry run prints
/// it as the secret percent-encoded by the script (see `exec::dry`).
pub const URLENCODED: &str = "WHISK_URLENCODED_";

/// minijinja's `urlencode`, except that a dry run's stand-in for a secret
/// (`bind::secret_placeholder`) becomes a stand-in for the secret encoded, so that the printed
/// script encodes the value it reads as whisk would.
fn urlencode(value: &Value) -> Result<String, Error> {
    const PLACEHOLDER: &str = "WHISK_SECRET_";
    let Some(text) = value.as_str().filter(|t| t.contains(PLACEHOLDER)) else {
        return minijinja::filters::urlencode(value);
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(PLACEHOLDER) {
        out.push_str(&minijinja::filters::urlencode(&Value::from(&rest[..at]))?);
        // WHISK_SECRET_<recipe>_<name>_ : letters, digits and `_` up to the last `_`.
        let tail = &rest[at..];
        let end = tail
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(tail.len(), |(i, _)| i);
        out.push_str(URLENCODED);
        out.push_str(&tail[..end]);
        rest = &tail[end..];
    }
    out.push_str(&minijinja::filters::urlencode(&Value::from(rest))?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> (Environment<'static>, Redactor) {
        let mut env = Environment::new();
        let redactor = Redactor::new();
        register(&mut env, &redactor);
        (env, redactor)
    }

    #[test]
    fn encodes_and_decodes() {
        let (env, _) = env();
        let out = env
            .render_str("{{ 'a:b' | b64encode }} {{ 'YTpi' | b64decode }}", ())
            .unwrap();
        assert_eq!(out, "YTpi a:b");
        let out = env
            .render_str("{{ ('{\"x\": [1]}' | fromjson).x[0] }}", ())
            .unwrap();
        assert_eq!(out, "1");
        let out = env.render_str("{{ 'abc' | sha256 }}", ()).unwrap();
        assert_eq!(
            out,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn now_and_uuid_look_right() {
        let (env, _) = env();
        let out = env.render_str("{{ now() }}|{{ none | uuid }}", ()).unwrap();
        let (now, uuid) = out.split_once('|').unwrap();
        assert!(now.ends_with('Z') && now.contains('T'), "{now}");
        assert_eq!(uuid.len(), 36);
    }

    #[test]
    fn encoding_a_secret_teaches_the_redactor() {
        let (env, redactor) = env();
        redactor.add("hunter2");
        let out = env
            .render_str(
                "{{ ('me:' ~ s) | b64encode }}",
                minijinja::context! { s => "hunter2" },
            )
            .unwrap();
        assert_eq!(redactor.mask(&out), "***");
    }
}
