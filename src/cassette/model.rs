//! The cassette file: JSON, one entry per exchange, in the order answers arrived.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::redact::{MASK, Masker, is_credential_header};

/// The version written in `whisk_cassette`; a cassette of another version is refused.
pub const FORMAT_VERSION: u32 = 1;

/// What `whisk record` saw, masked.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cassette {
    /// The cassette format version.
    pub whisk_cassette: u32,
    /// The recipe, relative to the folder of the cassette.
    pub recipe: String,
    /// RFC 3339 time of the recording.
    pub recorded_at: String,
    /// The inputs of the recorded run; replays use them again.
    #[serde(default)]
    pub inputs: serde_json::Map<String, serde_json::Value>,
    /// The recorded run failed, and was recorded anyway (`whisk record --allow-failure`): its
    /// replay is expected to fail the same way.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub run_failed: bool,
    pub interactions: Vec<Interaction>,
}

/// One request and its answer (or the reason it got none).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// Why no answer came (a refused connection, a timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, HeaderText>,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, HeaderText>,
    #[serde(flatten)]
    pub body: Body,
}

/// A header's value, or its values when it was repeated.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum HeaderText {
    One(String),
    Many(Vec<String>),
}

/// A body: JSON when it parses as JSON, text when it is UTF-8, base64 otherwise.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

impl Body {
    /// `bytes` with every secret the redactor knows masked.
    pub fn masked(bytes: &[u8], redactor: &Masker) -> Body {
        if bytes.is_empty() {
            return Body::default();
        }
        if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(bytes)
            && (json.is_object() || json.is_array())
        {
            redactor.mask_value(&mut json);
            return Body {
                json: Some(json),
                ..Body::default()
            };
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Body {
                text: Some(redactor.mask(text).into_owned()),
                ..Body::default()
            },
            Err(_) => Body {
                base64: Some(redactor.mask(&STANDARD.encode(bytes)).into_owned()),
                ..Body::default()
            },
        }
    }

    /// The bytes a replay answers with.
    pub fn bytes(&self) -> Vec<u8> {
        if let Some(json) = &self.json {
            serde_json::to_vec(json).unwrap_or_default()
        } else if let Some(text) = &self.text {
            text.clone().into_bytes()
        } else if let Some(encoded) = &self.base64 {
            STANDARD.decode(encoded).unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    /// One text per body content, for matching requests.
    pub fn key(&self) -> String {
        if let Some(json) = &self.json {
            format!("json:{json}")
        } else if let Some(text) = &self.text {
            format!("text:{text}")
        } else if let Some(encoded) = &self.base64 {
            format!("base64:{encoded}")
        } else {
            String::new()
        }
    }
}

/// Response headers that describe the connection or the encoding, not the answer: a replay
/// sets its own.
const NOT_RECORDED: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "content-encoding",
];

/// `headers` masked: credential headers keep only their scheme (`Bearer ***`), cookies are
/// masked whole, other values lose every secret the redactor knows.
pub fn masked_headers(headers: &HeaderMap, redactor: &Masker) -> IndexMap<String, HeaderText> {
    let mut out: IndexMap<String, HeaderText> = IndexMap::new();
    for (name, value) in headers {
        if NOT_RECORDED.contains(&name.as_str()) {
            continue;
        }
        let text = String::from_utf8_lossy(value.as_bytes());
        let text = if is_credential_header(name.as_str()) {
            match name.as_str() {
                "authorization" | "proxy-authorization" => match text.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} {MASK}"),
                    None => MASK.to_string(),
                },
                _ => MASK.to_string(),
            }
        } else {
            redactor.mask(&text).into_owned()
        };
        match out.get_mut(name.as_str()) {
            Some(HeaderText::One(first)) => {
                let first = std::mem::take(first);
                out.insert(name.to_string(), HeaderText::Many(vec![first, text]));
            }
            Some(HeaderText::Many(all)) => all.push(text),
            None => {
                out.insert(name.to_string(), HeaderText::One(text));
            }
        }
    }
    out
}

/// Recorded headers back as a header map (entries that are not valid headers are left out).
pub fn header_map(headers: &IndexMap<String, HeaderText>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, values) in headers {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        let values = match values {
            HeaderText::One(v) => std::slice::from_ref(v),
            HeaderText::Many(vs) => vs.as_slice(),
        };
        for value in values {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.append(name.clone(), value);
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_in_their_readable_form() {
        let redactor = crate::redact::Redactor::new();
        let json = Body::masked(br#"{"b":1,"a":[true]}"#, &redactor.masker());
        assert_eq!(json.json, Some(serde_json::json!({"b": 1, "a": [true]})));
        assert_eq!(json.bytes(), br#"{"b":1,"a":[true]}"#);
        let text = Body::masked(b"grant_type=x", &redactor.masker());
        assert_eq!(text.text.as_deref(), Some("grant_type=x"));
        let binary = Body::masked(&[0xff, 0x00], &redactor.masker());
        assert_eq!(binary.bytes(), [0xff, 0x00]);
        assert_eq!(Body::masked(b"", &redactor.masker()), Body::default());
        // A bare JSON scalar stays text: it is what the server sent, byte for byte.
        assert_eq!(
            Body::masked(b"42", &redactor.masker()).text.as_deref(),
            Some("42")
        );
    }

    #[test]
    fn secrets_and_credentials_are_masked() {
        let redactor = crate::redact::Redactor::new();
        redactor.add("s3cret");
        let body = Body::masked(br#"{"token":"s3cret"}"#, &redactor.masker());
        assert_eq!(body.json, Some(serde_json::json!({"token": "***"})));
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        headers.insert("x-key", "key-s3cret".parse().unwrap());
        headers.append("set-cookie", "a=1".parse().unwrap());
        headers.append("set-cookie", "b=2".parse().unwrap());
        headers.insert("content-length", "10".parse().unwrap());
        let masked = masked_headers(&headers, &redactor.masker());
        assert_eq!(
            masked["authorization"],
            HeaderText::One("Bearer ***".into())
        );
        assert_eq!(masked["x-key"], HeaderText::One("key-***".into()));
        assert_eq!(
            masked["set-cookie"],
            HeaderText::Many(vec!["***".into(), "***".into()])
        );
        assert!(!masked.contains_key("content-length"));
        assert_eq!(header_map(&masked).get_all("set-cookie").iter().count(), 2);
    }
}
