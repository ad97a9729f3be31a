//! Secret masking: the one place every output passes through. It knows every secret value,
//! every token a server returned, and the encoded forms they travel in, and replaces each with
//! `***` in text and in JSON values.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub const MASK: &str = "***";

/// The set of sensitive values of one run. Cheap to clone; clones share the set.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    values: Arc<RwLock<Values>>,
}

/// The values, as a snapshot rebuilt when a value is added.
#[derive(Debug, Default)]
struct Values {
    current: Snapshot,
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret together with the forms it is commonly sent in (base64, percent-encoded,
    /// JSON-escaped).
    pub fn add(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut forms = vec![secret.to_string(), STANDARD.encode(secret)];
        let encoded =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        forms.push(encoded);
        forms.push(form_urlencoded(secret));
        if let Ok(json) = serde_json::to_string(secret) {
            forms.push(json.trim_matches('"').to_string());
        }
        self.add_exact(forms);
    }

    /// Adds values exactly as given (a derived credential such as a Basic header's payload).
    pub fn add_derived(&self, value: &str) {
        if !value.is_empty() {
            self.add_exact(vec![value.to_string()]);
        }
    }

    fn add_exact(&self, forms: Vec<String>) {
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        let mut list = values.current.list.to_vec();
        let before = list.len();
        for form in forms {
            if !form.is_empty() && !list.contains(&form) {
                list.push(form);
            }
        }
        if list.len() != before {
            values.current = Snapshot::of(list);
        }
    }

    /// True when `text` contains any sensitive value.
    pub fn touches(&self, text: &str) -> bool {
        let values = self.values.read().unwrap_or_else(|e| e.into_inner());
        let current = &values.current;
        match &current.matcher {
            Some(matcher) => matcher.is_match(text),
            None => current.list.iter().any(|v| text.contains(v.as_str())),
        }
    }

    /// `text` with every sensitive value replaced by `***`.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let values = self.values.read().unwrap_or_else(|e| e.into_inner());
        match values.current.mask_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Whole values are replaced by ASCII: the text stays UTF-8.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// The values known now, for masking a lot of text at once (a report) without taking the
    /// lock each time. Values added later are not in it.
    pub fn snapshot(&self) -> Snapshot {
        let values = self.values.read().unwrap_or_else(|e| e.into_inner());
        values.current.clone()
    }

    /// Masks every string (and object key) inside a JSON value.
    pub fn mask_value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if let Cow::Owned(masked) = self.mask(text) {
                    *text = masked;
                }
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().for_each(|item| self.mask_value(item))
            }
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.mask_value(&mut item);
                    map.insert(self.mask(&key).into_owned(), item);
                }
            }
            _ => {}
        }
    }
}

/// The sensitive values of a run at one moment (see `Redactor::snapshot`), and an Aho-Corasick
/// automaton over them (leftmost-longest, so that a secret containing another is masked whole):
/// masking is one pass over the text whatever the number of values. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Snapshot {
    matcher: Option<aho_corasick::AhoCorasick>,
    /// The length of the shortest value: shorter text holds none (most keys of a report).
    shortest: usize,
    list: Arc<[String]>,
}

impl Default for Snapshot {
    fn default() -> Snapshot {
        Snapshot::of(Vec::new())
    }
}

impl Snapshot {
    fn of(list: Vec<String>) -> Snapshot {
        let matcher = (!list.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .build(&list)
                    .ok()
            })
            .flatten();
        Snapshot {
            matcher,
            shortest: list.iter().map(String::len).min().unwrap_or(usize::MAX),
            list: list.into(),
        }
    }

    /// `text` with every sensitive value replaced by `***`.
    pub fn mask_bytes<'a>(&self, text: &'a [u8]) -> Cow<'a, [u8]> {
        if text.len() < self.shortest {
            return Cow::Borrowed(text);
        }
        match &self.matcher {
            Some(matcher) => {
                if !matcher.is_match(text) {
                    return Cow::Borrowed(text);
                }
                let mut out = Vec::with_capacity(text.len());
                matcher.replace_all_with_bytes(text, &mut out, |_, _, out| {
                    out.extend_from_slice(MASK.as_bytes());
                    true
                });
                Cow::Owned(out)
            }
            // No automaton (it could not be built): one value at a time.
            None => {
                let mut out = Cow::Borrowed(text);
                for value in self.list.iter() {
                    let value = value.as_bytes();
                    if let Some(at) = find(&out, value) {
                        let mut replaced = out[..at].to_vec();
                        let mut rest = &out[at..];
                        while let Some(at) = find(rest, value) {
                            replaced.extend_from_slice(&rest[..at]);
                            replaced.extend_from_slice(MASK.as_bytes());
                            rest = &rest[at + value.len()..];
                        }
                        replaced.extend_from_slice(rest);
                        out = Cow::Owned(replaced);
                    }
                }
                out
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Headers whose whole value is a credential: writers show them as `***` whatever the value.
pub fn is_credential_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn form_urlencoded(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_mask_bytes_with_and_without_the_automaton() {
        let redactor = Redactor::new();
        redactor.add("tok");
        redactor.add("tokenXYZ");
        let text = b"a tokenXYZ b tok c tokenXYZtok".as_slice();
        let expected = b"a *** b *** c ******".as_slice();
        let snapshot = redactor.snapshot();
        assert_eq!(snapshot.mask_bytes(text).as_ref(), expected);
        assert!(matches!(snapshot.mask_bytes(b"clean"), Cow::Borrowed(_)));
        let plain = Snapshot {
            matcher: None,
            shortest: 3,
            list: vec!["tokenXYZ".into(), "tok".into()].into(),
        };
        assert_eq!(snapshot.mask_bytes(b"to").as_ref(), b"to");
        assert_eq!(plain.mask_bytes(text).as_ref(), expected);
        redactor.add("later");
        assert_eq!(
            snapshot.mask_bytes(b"later").as_ref(),
            b"later",
            "a snapshot keeps the values of its moment"
        );
    }

    #[test]
    fn masks_secrets_and_their_encodings() {
        let redactor = Redactor::new();
        redactor.add("s3cr3t/+x");
        let b64 = STANDARD.encode("s3cr3t/+x");
        let text = format!("a s3cr3t/+x b {b64} c s3cr3t%2F%2Bx");
        assert_eq!(redactor.mask(&text), "a *** b *** c ***");
    }

    #[test]
    fn masks_inside_json_values_and_keys() {
        let redactor = Redactor::new();
        redactor.add("tok");
        let mut value = serde_json::json!({"a": ["x tok"], "tok": 1});
        redactor.mask_value(&mut value);
        assert_eq!(value, serde_json::json!({"a": ["x ***"], "***": 1}));
    }

    #[test]
    fn longer_values_win() {
        let redactor = Redactor::new();
        redactor.add("abc");
        redactor.add_derived("xxabcxx");
        assert_eq!(redactor.mask("1 xxabcxx 2 abc"), "1 *** 2 ***");
        assert!(redactor.touches("zabc"));
        assert!(!redactor.touches("ab"));
    }
}
