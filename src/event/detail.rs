//! The request and response detail events carry for `-v`, `-vv` and the event stream: headers
//! and the start of a body. Taken as data here; writers decide how much to show and mask it.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The most of a body an event carries, in bytes. `-v` shows less (see the terminal writer).
use crate::redact::Masker;

pub const PREVIEW_BYTES: usize = 16 * 1024;

/// Header lines in order, one per name (repeated headers joined with `, `).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The headers of `map`, plus `extra` (the credential header, which travels apart).
    pub fn of(map: &HeaderMap, extra: Option<&(HeaderName, HeaderValue)>) -> Headers {
        let mut lines: Vec<(String, String)> = Vec::new();
        let all = map.iter().chain(extra.map(|(name, value)| (name, value)));
        for (name, value) in all {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match lines.iter_mut().find(|(n, _)| n == name.as_str()) {
                Some((_, joined)) => {
                    joined.push_str(", ");
                    joined.push_str(&value);
                }
                None => lines.push((name.as_str().to_string(), value)),
            }
        }
        Headers(lines)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Serialised as a JSON object, `{"content-type": "application/json", ...}`.
impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The first `PREVIEW_BYTES` of a body as text (invalid UTF-8 replaced), cut at a character
/// boundary.
pub fn preview(body: &[u8], masker: &Masker) -> String {
    let body = masked_window(body, PREVIEW_BYTES, masker);
    let mut end = body.len().min(PREVIEW_BYTES);
    // Back off over UTF-8 continuation bytes so that the cut does not split a character.
    while end < body.len() && end > 0 && body[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// The start of `body`, long enough to hold `keep` bytes and any secret that begins in them,
/// with its secrets masked: cutting after masking never leaves part of a secret.
fn masked_window<'a>(body: &'a [u8], keep: usize, masker: &Masker) -> std::borrow::Cow<'a, [u8]> {
    let window = body.len().min(keep.saturating_add(masker.longest()));
    match masker.mask_bytes(&body[..window]) {
        std::borrow::Cow::Borrowed(_) if window == body.len() => std::borrow::Cow::Borrowed(body),
        masked => std::borrow::Cow::Owned(masked.into_owned()),
    }
}

/// The start of a body for a one-line message: at most 120 bytes, control characters as
/// spaces, `…` when cut.
pub fn excerpt(body: &[u8], masker: &Masker) -> String {
    let whole = body.len();
    let masked = masked_window(body, 120, masker);
    let body: &[u8] = &masked;
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    let mut text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if whole > 120 || body.len() > 120 {
        text.push('…');
    }
    text.trim().to_string()
}

/// `text` cut to at most `chars` characters, with `…` when cut.
pub fn shorten(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// `text` cut to at most `max` bytes at a character boundary, and whether it was cut.
pub fn truncate(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_join_repeats_and_keep_the_credential() {
        let mut map = HeaderMap::new();
        map.append("accept", HeaderValue::from_static("a"));
        map.append("accept", HeaderValue::from_static("b"));
        let auth = (
            reqwest::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer t"),
        );
        let headers = Headers::of(&map, Some(&auth));
        assert_eq!(
            serde_json::to_value(&headers).unwrap(),
            serde_json::json!({"accept": "a, b", "authorization": "Bearer t"})
        );
    }

    #[test]
    fn excerpts_and_shortened_texts_say_when_they_are_cut() {
        assert_eq!(excerpt(b"  a\nb  ", &Masker::default()), "a b");
        assert_eq!(
            excerpt(&[b'x'; 130], &Masker::default()).chars().count(),
            121
        );
        assert_eq!(shorten("héllo", 2), "hé…");
        assert_eq!(shorten("abc", 3), "abc");
    }

    #[test]
    fn previews_and_truncation_respect_characters() {
        let long = "é".repeat(PREVIEW_BYTES);
        let text = preview(long.as_bytes(), &Masker::default());
        assert_eq!(text.len(), PREVIEW_BYTES);
        assert!(!text.contains('\u{FFFD}'));
        assert_eq!(truncate("héllo", 2), ("h", true));
        assert_eq!(truncate("abc", 5), ("abc", false));
    }

    #[test]
    fn a_secret_across_the_cut_is_masked_whole() {
        let redactor = crate::redact::Redactor::new();
        redactor.add("plainSECRETzq7abcd");
        let mut body = "x".repeat(120 - 5).into_bytes();
        body.extend_from_slice(b"plainSECRETzq7abcd and more");
        let cut = excerpt(&body, &redactor.masker());
        assert!(!cut.contains("plain"), "{cut}");
        let mut long = vec![b'y'; PREVIEW_BYTES - 3];
        long.extend_from_slice(b"plainSECRETzq7abcd");
        let shown = preview(&long, &redactor.masker());
        assert!(!shown.contains("pla"), "{}", &shown[shown.len() - 10..]);
    }
}
