//! Entry points for the fuzz targets in `fuzz/` and for their regression tests: each takes any
//! text and must return without panicking, whatever the text.

use crate::plan::template::{TemplateBuilder, to_value};
use crate::redact::Redactor;

/// Loads, validates and plans `text` as a recipe, renders every diagnostic, and returns how
/// many problems it found.
pub fn recipe(text: &str) -> usize {
    let source = crate::recipe::load::source("fuzz.yaml", text);
    let problems = match crate::recipe::load_str(&source) {
        Ok(recipe) => match crate::plan::build(source, &recipe) {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        },
        Err(error) => vec![error.0],
    };
    for problem in &problems {
        let _ = crate::diagnostic::render(problem, false);
    }
    problems.len()
}

/// Compiles `text` as a recipe string and as an expression, renders both with a small
/// context, and returns how many renderings succeeded.
pub fn template(text: &str) -> usize {
    let mut builder = TemplateBuilder::new(&Redactor::new());
    let compiled = [builder.string(text), builder.expression(text)];
    let Ok(templates) = builder.finish() else {
        return 0;
    };
    let ctx = to_value(&serde_json::json!({
        "inputs": {"base_url": "http://127.0.0.1:1", "ids": [1, 2, 3], "flag": true},
        "secrets": {"token": "s3cr3t"},
        "steps": {"first": {"status": 200, "headers": {}, "body": {"items": [{"id": 1}]}}},
        "item": "101",
    }));
    let mut rendered = 0;
    for (tpl, _) in compiled.into_iter().flatten() {
        rendered += usize::from(templates.json(&tpl, &ctx).is_ok());
        rendered += usize::from(templates.text(&tpl, &ctx).is_ok());
    }
    rendered
}

#[cfg(test)]
mod tests {
    //! Inputs that once broke something, kept as regression tests.
    use super::*;

    #[test]
    fn odd_recipes_are_reported_not_panicked_on() {
        for text in [
            "",
            "---\n---\n",
            "version: 1\nname: x\nsteps:\n  - id: a\n    request: { url: \"{{\" }\n",
            "version: 1\nname: x\nsteps: [{id: a, for_each: \"{{ [1] }}\", steps: [{id: a, request: {url: 'http://x'}}]}]\n",
            "version: 99999999999999999999\n",
            "&a [*a]",
            "version: 1\nname: x\nsteps:\n  - id: é\n    request: { url: \"http://h\" }\n    capture: { 'x y': '$[' }\n",
        ] {
            assert!(recipe(text) > 0, "no problem reported for {text:?}");
        }
        assert_eq!(
            recipe(
                "version: 1\nname: ok\nsteps:\n  - id: a\n    request: { url: \"http://127.0.0.1:1/x\" }\n"
            ),
            0
        );
    }

    #[test]
    fn odd_templates_fail_cleanly() {
        for text in [
            "{{",
            "}}x{{",
            "{{ 1/0 }}",
            "{{ inputs.ids[99] }}",
            "{% for x in range(99999999) %}{% endfor %}",
            "{{ item | b64decode }}",
            "{{ '{' | fromjson }}",
        ] {
            assert_eq!(template(text), 0, "{text:?} should not render");
        }
        assert_eq!(template("{{ 'a' * 3 }}"), 4);
        assert_eq!(template("{{ inputs.ids | length }}"), 4);
    }
}
