//! Diagnostics as JSON (`--error-format json`): one object per line with a fixed shape,
//! `{kind, severity, message, location: {file, line, column}, step, field, help}`, absent
//! parts as `null`.

use serde_json::{Value, json};

use super::Diagnostic;

/// The diagnostic as a JSON value.
pub fn to_json(diagnostic: &Diagnostic) -> Value {
    let location = diagnostic.location.as_ref().map(|l| {
        let known = |n: u32| if n > 0 { Value::from(n) } else { Value::Null };
        json!({"file": l.file, "line": known(l.line), "column": known(l.column)})
    });
    json!({
        "kind": diagnostic.kind,
        "severity": diagnostic.severity,
        "message": diagnostic.message,
        "location": location,
        "step": diagnostic.step,
        "field": diagnostic.field,
        "help": diagnostic.help,
    })
}

/// The diagnostic as one line of JSON, masked with `masker`.
pub fn to_json_line(diagnostic: &Diagnostic, masker: &crate::redact::Masker) -> String {
    let mut value = to_json(diagnostic);
    masker.mask_value(&mut value);
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Location;

    #[test]
    fn has_a_fixed_shape_and_is_masked() {
        let redactor = crate::redact::Redactor::new();
        redactor.add("hunter2");
        let kind = crate::diagnostic::Kind::Bind(crate::diagnostic::BindKind::InvalidInput);
        let mut diagnostic = Diagnostic::new(kind, "bad value `hunter2`").step("a");
        diagnostic.location = Some(Box::new(Location {
            file: "r.yaml".into(),
            line: 3,
            column: 5,
            source_line: None,
        }));
        let line: Value =
            serde_json::from_str(&to_json_line(&diagnostic, &redactor.masker())).unwrap();
        assert_eq!(
            line,
            json!({
                "kind": "bind.invalid_input",
                "severity": "error",
                "message": "bad value `***`",
                "location": {"file": "r.yaml", "line": 3, "column": 5},
                "step": "a",
                "field": null,
                "help": null,
            })
        );
        let bare = Diagnostic::new(kind, "x").in_file("f.yaml").warning();
        assert_eq!(to_json(&bare)["severity"], "warning");
        assert_eq!(
            to_json(&bare)["location"],
            json!({"file": "f.yaml", "line": null, "column": null})
        );
    }
}
