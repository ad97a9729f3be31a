//! The secrets of a run at one moment, and masking with them: text, bytes, JSON values.

use std::borrow::Cow;
use std::sync::Arc;

use super::MASK;

/// The sensitive values of a run at one moment (see `Redactor::masker`), and an Aho-Corasick
/// automaton over them (leftmost-longest, so that a secret containing another is masked whole):
/// masking is one pass over the text whatever the number of values. Cheap to clone. This is
/// what every writer masks with: through `Masked` values and the `MaskedWrite` stream.
#[derive(Clone, Debug)]
pub struct Masker {
    matcher: Option<aho_corasick::AhoCorasick>,
    /// The length of the shortest value: shorter text holds none (most keys of a report).
    shortest: usize,
    /// The length of the longest value.
    longest: usize,
    pub(super) list: Arc<[String]>,
}

impl Default for Masker {
    fn default() -> Masker {
        Masker::of(Vec::new())
    }
}

impl Masker {
    /// How many values (each secret in each of its forms) it masks.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(super) fn of(list: Vec<String>) -> Masker {
        let matcher = (!list.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .build(&list)
                    .ok()
            })
            .flatten();
        Masker {
            matcher,
            shortest: list.iter().map(String::len).min().unwrap_or(usize::MAX),
            longest: list.iter().map(String::len).max().unwrap_or(0),
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

impl Masker {
    pub(super) fn matcher(&self) -> Option<&aho_corasick::AhoCorasick> {
        self.matcher.as_ref()
    }

    /// The length of the longest value.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// True when `text` contains any sensitive value.
    pub fn touches(&self, text: &str) -> bool {
        if text.len() < self.shortest {
            return false;
        }
        match &self.matcher {
            Some(matcher) => matcher.is_match(text),
            None => self.list.iter().any(|v| text.contains(v.as_str())),
        }
    }

    /// True when a string (or key) of a JSON value contains a sensitive value.
    pub fn touches_json(&self, value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(text) => self.touches(text),
            serde_json::Value::Array(items) => items.iter().any(|item| self.touches_json(item)),
            serde_json::Value::Object(map) => self.touches_map(map),
            _ => false,
        }
    }

    /// True when a key or value of a JSON object contains a sensitive value.
    pub fn touches_map(&self, map: &serde_json::Map<String, serde_json::Value>) -> bool {
        map.iter()
            .any(|(key, value)| self.touches(key) || self.touches_json(value))
    }

    /// `text` with every sensitive value replaced by `***`.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.mask_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Whole values are replaced by ASCII: the text stays UTF-8.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// The masked form of `text`, when it holds a sensitive value.
    pub fn masked(&self, text: &str) -> Option<String> {
        match self.mask(text) {
            Cow::Borrowed(_) => None,
            Cow::Owned(masked) => Some(masked),
        }
    }

    /// Masks every string (and object key) inside a JSON value.
    pub fn mask_value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if let Some(masked) = self.masked(text) {
                    *text = masked;
                }
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().for_each(|item| self.mask_value(item))
            }
            serde_json::Value::Object(map) => self.mask_map(map),
            _ => {}
        }
    }

    /// Masks every key and value of a JSON object.
    pub fn mask_map(&self, map: &mut serde_json::Map<String, serde_json::Value>) {
        if !map.keys().any(|k| self.masked(k).is_some()) {
            map.values_mut().for_each(|item| self.mask_value(item));
            return;
        }
        let entries = std::mem::take(map);
        for (key, mut item) in entries {
            self.mask_value(&mut item);
            map.insert(self.mask(&key).into_owned(), item);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_mask_bytes_with_and_without_the_automaton() {
        let redactor = crate::redact::Redactor::new();
        redactor.add("tok");
        redactor.add("tokenXYZ");
        let text = b"a tokenXYZ b tok c tokenXYZtok".as_slice();
        let expected = b"a *** b *** c ******".as_slice();
        let snapshot = redactor.masker();
        assert_eq!(snapshot.mask_bytes(text).as_ref(), expected);
        assert!(matches!(snapshot.mask_bytes(b"clean"), Cow::Borrowed(_)));
        let plain = Masker {
            matcher: None,
            shortest: 3,
            longest: 8,
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
}
