//! Capture extraction: JSONPath over the JSON body, a header, or a regex over the text.
//! Pure functions of the response.

use crate::plan::{CaptureKind, CapturePlan};

/// What a capture reads from.
pub struct ResponseView<'a> {
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<&'a serde_json::Value>,
    /// The run's secrets, masked in excerpts before they are cut.
    pub masker: &'a crate::redact::Masker,
}

/// Extracts one capture's value, or says why it cannot.
pub fn extract(
    capture: &CapturePlan,
    response: &ResponseView<'_>,
) -> Result<serde_json::Value, String> {
    let found = match &capture.kind {
        CaptureKind::JsonPath { path, text } => {
            let Some(json) = response.json else {
                return Err(format!(
                    "capture `{}`: JSONPath `{text}` needs a JSON body, but the response is not JSON (it starts with `{}`)",
                    capture.name,
                    crate::event::excerpt(response.body, response.masker)
                ));
            };
            let matches = path.query(json).all();
            if capture.single {
                match matches.len() {
                    1 => Some(matches[0].clone()),
                    0 => None,
                    n => {
                        return Err(format!(
                            "capture `{}`: JSONPath `{text}` matched {n} values, but `single: true` needs exactly one",
                            capture.name
                        ));
                    }
                }
            } else {
                if let Some(min) = capture.min
                    && matches.len() < min
                {
                    return Err(format!(
                        "capture `{}`: JSONPath `{text}` matched {}, but `min: {min}` needs at least {min}",
                        capture.name,
                        crate::plural::count(matches.len(), "value", "values")
                    ));
                }
                Some(serde_json::Value::Array(
                    matches.into_iter().cloned().collect(),
                ))
            }
        }
        CaptureKind::Header(name) => {
            let values: Vec<&str> = response
                .headers
                .get_all(name.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| serde_json::Value::String(values.join(", ")))
        }
        CaptureKind::Regex(regex) => {
            let text = String::from_utf8_lossy(response.body);
            regex.captures(&text).map(|caps| {
                let found = caps
                    .get(1)
                    .or_else(|| caps.get(0))
                    .map(|m| m.as_str())
                    .unwrap_or_default();
                serde_json::Value::String(found.to_string())
            })
        }
    };
    match found {
        Some(value) => Ok(value),
        None if capture.optional => Ok(capture.default.clone().unwrap_or(serde_json::Value::Null)),
        None => Err(match &capture.kind {
            CaptureKind::JsonPath { text, .. } => format!(
                "capture `{}`: JSONPath `{text}` matched nothing, but `single: true` needs exactly one (add `optional: true` or a `default` if it may be absent)",
                capture.name
            ),
            CaptureKind::Header(name) => format!(
                "capture `{}`: the response has no `{name}` header (add `optional: true` or a `default` if it may be absent)",
                capture.name
            ),
            CaptureKind::Regex(regex) => format!(
                "capture `{}`: regex `{}` did not match the body (add `optional: true` or a `default` if it may not)",
                capture.name,
                regex.as_str()
            ),
        }),
    }
}

/// What looks wrong in a capture's value without failing the step: a list capture that
/// matched nothing, unless it says that may happen (`optional`) or how many it needs (`min`).
pub fn warning(capture: &CapturePlan, value: &serde_json::Value) -> Option<String> {
    let CaptureKind::JsonPath { text, .. } = &capture.kind else {
        return None;
    };
    let quiet = capture.single || capture.optional || capture.min.is_some();
    (!quiet && value.as_array().is_some_and(Vec::is_empty)).then(|| {
        format!(
            "capture `{}`: JSONPath `{text}` matched nothing (add `min: 1` to fail the step, or `optional: true` if that may happen)",
            capture.name
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::jsonpath;

    fn plan(kind: CaptureKind, single: bool, optional: bool) -> CapturePlan {
        CapturePlan {
            name: "c".into(),
            kind,
            single,
            optional,
            default: None,
            min: None,
        }
    }

    fn path(text: &str) -> CaptureKind {
        CaptureKind::JsonPath {
            path: jsonpath::compile(text).unwrap(),
            text: text.into(),
        }
    }

    #[test]
    fn jsonpath_lists_and_singles() {
        let json = serde_json::json!([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]);
        let headers = reqwest::header::HeaderMap::new();
        let view = ResponseView {
            headers: &headers,
            body: b"",
            json: Some(&json),
            masker: &crate::redact::Masker::default(),
        };
        assert_eq!(
            extract(&plan(path("$[*].name"), false, false), &view).unwrap(),
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            extract(&plan(path("$[0].id"), true, false), &view).unwrap(),
            serde_json::json!(1)
        );
        assert!(
            extract(&plan(path("$[*].id"), true, false), &view)
                .unwrap_err()
                .contains("matched 2 values")
        );
        assert!(
            extract(&plan(path("$[5].id"), true, false), &view)
                .unwrap_err()
                .contains("matched nothing")
        );
        assert_eq!(
            extract(&plan(path("$[5].id"), true, true), &view).unwrap(),
            serde_json::Value::Null
        );
    }

    #[test]
    fn header_and_regex() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("etag", "\"v1\"".parse().unwrap());
        let view = ResponseView {
            headers: &headers,
            body: b"token=abc123;",
            json: None,
            masker: &crate::redact::Masker::default(),
        };
        assert_eq!(
            extract(
                &plan(CaptureKind::Header("etag".into()), false, false),
                &view
            )
            .unwrap(),
            serde_json::json!("\"v1\"")
        );
        let regex = CaptureKind::Regex(regex::Regex::new("token=([a-z0-9]+)").unwrap());
        assert_eq!(
            extract(&plan(regex, false, false), &view).unwrap(),
            serde_json::json!("abc123")
        );
        assert!(
            extract(&plan(path("$.x"), false, false), &view)
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
