//! The snapshot of a replayed run: its report with what changes from run to run taken out
//! (times, durations, waits, the whisk version), and the diff shown when it no longer matches.

use serde_json::Value;

/// Keys whose values differ between two runs of the same exchanges.
const VARYING: [&str; 5] = [
    "whisk_version",
    "started_at",
    "ended_at",
    "duration_ms",
    "wait_ms",
];

/// `report` (a run report as JSON) without its varying values; `recipe` replaces the recipe
/// path, which depends on the folder `whisk test` ran from.
pub fn normalize(mut report: Value, recipe: &str) -> Value {
    strip(&mut report);
    if let Some(info) = report.get_mut("recipe").and_then(Value::as_object_mut) {
        info.insert("path".into(), Value::String(recipe.to_string()));
        // A snapshot compares what the run did, not the recipe's bytes.
        info.remove("sha256");
    }
    if let Some(top) = report.as_object_mut() {
        top.remove("resumed_from");
    }
    report
}

fn strip(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !VARYING.contains(&key.as_str()));
            map.values_mut().for_each(strip);
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// A unified diff from `stored` to `replayed`, with three lines of context.
pub fn diff(stored: &str, replayed: &str, color: bool) -> String {
    let diff = similar::TextDiff::from_lines(stored, replayed);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "replay")
        .to_string();
    if !color {
        return text;
    }
    text.lines()
        .map(|line| match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => format!("\x1b[32m{line}\x1b[0m\n"),
            Some(b'-') if !line.starts_with("---") => format!("\x1b[31m{line}\x1b[0m\n"),
            Some(b'@') => format!("\x1b[36m{line}\x1b[0m\n"),
            _ => format!("{line}\n"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varying_values_are_taken_out() {
        let report = serde_json::json!({
            "whisk_version": "0.1.0",
            "recipe": {"name": "r", "path": "/tmp/x/r.yaml"},
            "started_at": "2026-11-22T06:00:00Z",
            "duration_ms": 12,
            "steps": [{"id": "a", "duration_ms": 3, "request": {"attempts": [{"wait_ms": 100, "status": 429}]}}]
        });
        assert_eq!(
            normalize(report, "r.yaml"),
            serde_json::json!({
                "recipe": {"name": "r", "path": "r.yaml"},
                "steps": [{"id": "a", "request": {"attempts": [{"status": 429}]}}]
            })
        );
    }

    #[test]
    fn diffs_show_changed_lines() {
        let text = diff("a\nb\nc\n", "a\nB\nc\n", false);
        assert!(text.contains("-b\n+B\n"), "{text}");
        assert!(text.starts_with("--- snapshot\n+++ replay\n"), "{text}");
    }
}
