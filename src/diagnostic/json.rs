//! Diagnostics as JSON (`--error-format json`): one object per line with a fixed shape,
//! `{message, location: {file, line, column}, step, field, help}`, absent parts as `null`.

use serde_json::{Value, json};

use super::Diagnostic;
use crate::redact::Redactor;

/// The diagnostic as a JSON value, masked.
pub fn to_json(diagnostic: &Diagnostic, redactor: &Redactor) -> Value {
    let location = diagnostic.location.as_ref().map(|l| {
        let known = |n: u32| if n > 0 { Value::from(n) } else { Value::Null };
        json!({"file": l.file, "line": known(l.line), "column": known(l.column)})
    });
    let mut value = json!({
        "message": diagnostic.message,
        "location": location,
        "step": diagnostic.step,
        "field": diagnostic.field,
        "help": diagnostic.help,
    });
    redactor.mask_value(&mut value);
    value
}

/// The diagnostic as one line of JSON, masked.
pub fn to_json_line(diagnostic: &Diagnostic, redactor: &Redactor) -> String {
    to_json(diagnostic, redactor).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Location;

    #[test]
    fn has_a_fixed_shape_and_is_masked() {
        let redactor = Redactor::new();
        redactor.add("hunter2");
        let mut diagnostic = Diagnostic::new("bad value `hunter2`").step("a");
        diagnostic.location = Some(Box::new(Location {
            file: "r.yaml".into(),
            line: 3,
            column: 5,
            source_line: None,
        }));
        assert_eq!(
            to_json(&diagnostic, &redactor),
            json!({
                "message": "bad value `***`",
                "location": {"file": "r.yaml", "line": 3, "column": 5},
                "step": "a",
                "field": null,
                "help": null,
            })
        );
        let bare = Diagnostic::new("x").in_file("f.yaml");
        assert_eq!(
            to_json(&bare, &redactor)["location"],
            json!({"file": "f.yaml", "line": null, "column": null})
        );
    }
}
