//! JSONPath (RFC 9535) through serde_json_path, chosen because it passes the whole compliance
//! suite (703 of 703 cases, see `tests/jsonpath_cts.rs`). Selector forms the engine is known to
//! get wrong would be rejected here; for this engine the list is empty.

use serde_json_path::JsonPath;

/// Selector forms the engine is known to get wrong, with the reason. Validation rejects a path
/// that contains one of them rather than return a wrong answer. Empty: serde_json_path 0.7.2
/// passes every case of the suite.
pub const KNOWN_GAPS: &[(&str, &str)] = &[];

/// Parses a JSONPath, or says why it is not one.
pub fn compile(path: &str) -> Result<JsonPath, String> {
    if let Some((_, reason)) = KNOWN_GAPS.iter().find(|(form, _)| path.contains(form)) {
        return Err(format!(
            "JSONPath `{path}` uses a form whisk cannot evaluate correctly: {reason}"
        ));
    }
    JsonPath::parse(path).map_err(|error| {
        let detail = error.to_string();
        if path.starts_with('$') {
            format!("invalid JSONPath `{path}`: {detail}")
        } else {
            format!("invalid JSONPath `{path}`: a JSONPath starts with `$` ({detail})")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_explains() {
        assert!(compile("$[*].name").is_ok());
        assert!(compile("$.items[?@.status == 'ACTIVE'].id").is_ok());
        assert!(compile("items[0]").unwrap_err().contains("starts with `$`"));
        assert!(
            compile("$[")
                .unwrap_err()
                .starts_with("invalid JSONPath `$[`")
        );
    }
}
