//! The checked-in JSON Schemas match what the code generates, and shipped recipes validate.

use crate::harness::Whisk;

fn check(kind: &str) {
    let out = Whisk::new().command(&["schema", kind]);
    assert_eq!(out.code, 0);
    let path = format!("{}/schemas/{kind}.schema.json", env!("CARGO_MANIFEST_DIR"));
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == out.stdout,
        "{path} is out of date: run `cargo run -- schema {kind} > schemas/{kind}.schema.json`"
    );
}

#[test]
fn recipe_schema_is_current() {
    check("recipe");
}

#[test]
fn report_schema_is_current() {
    check("report");
}

#[test]
fn schemas_describe_the_top_level() {
    let recipe: serde_json::Value =
        serde_json::from_str(&Whisk::new().command(&["schema", "recipe"]).stdout).unwrap();
    for key in [
        "version", "name", "inputs", "secrets", "auth", "defaults", "steps", "outputs",
    ] {
        assert!(
            recipe["properties"].get(key).is_some(),
            "recipe schema lacks `{key}`"
        );
    }
    assert_eq!(recipe["additionalProperties"], serde_json::json!(false));
    let report: serde_json::Value =
        serde_json::from_str(&Whisk::new().command(&["schema", "report"]).stdout).unwrap();
    for key in [
        "recipe",
        "inputs",
        "started_at",
        "ended_at",
        "status",
        "steps",
    ] {
        assert!(
            report["properties"].get(key).is_some(),
            "report schema lacks `{key}`"
        );
    }
}
