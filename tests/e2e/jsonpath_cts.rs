//! The RFC 9535 compliance test suite (jsonpath-standard/jsonpath-compliance-test-suite,
//! vendored under `fixtures/jsonpath-cts`) against the JSONPath engine whisk uses. Every case
//! runs; a case the engine gets wrong must be listed in `KNOWN_GAPS` with its reason, and the
//! selector form must then be rejected at validation (`whisk::plan::jsonpath::KNOWN_GAPS`).

use serde_json::Value;

/// Cases the engine is known to miss: (case name, reason). serde_json_path 0.7.2 passes all.
const KNOWN_GAPS: &[(&str, &str)] = &[];

#[test]
fn compliance_suite() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/e2e/fixtures/jsonpath-cts/cts.json"
    ))
    .unwrap();
    let suite: Value = serde_json::from_str(&text).unwrap();
    let cases = suite["tests"].as_array().unwrap();
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let selector = case["selector"].as_str().unwrap();
        let outcome = whisk::plan::jsonpath::compile(selector);
        let ok = if case["invalid_selector"].as_bool() == Some(true) {
            outcome.is_err()
        } else {
            match outcome {
                Err(_) => false,
                Ok(path) => {
                    let found = Value::Array(
                        path.query(&case["document"])
                            .all()
                            .into_iter()
                            .cloned()
                            .collect(),
                    );
                    match (&case.get("result"), case.get("results")) {
                        (Some(result), _) => &found == *result,
                        (None, Some(Value::Array(results))) => results.contains(&found),
                        _ => false,
                    }
                }
            }
        };
        let known = KNOWN_GAPS.iter().any(|(gap, _)| *gap == name);
        match (ok, known) {
            (true, false) => passed += 1,
            (false, true) => {}
            (false, false) => failures.push(format!("{name}: `{selector}`")),
            (true, true) => failures.push(format!("{name}: passes now; remove it from KNOWN_GAPS")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} compliance cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed + KNOWN_GAPS.len(), cases.len());
    assert_eq!(cases.len(), 703, "the vendored suite has 703 cases");
    assert_eq!(
        KNOWN_GAPS.len(),
        whisk::plan::jsonpath::KNOWN_GAPS.len(),
        "validation must reject every known gap"
    );
}
