//! Entry points for the fuzz targets in `fuzz/` and for their regression tests: each takes any
//! text and must return without panicking, whatever the text.

use crate::plan::template::{TemplateBuilder, to_value};
use crate::redact::Redactor;
use crate::source::Source;

/// Loads, validates and plans `text` as a recipe, and renders every diagnostic.
pub fn recipe(text: &str) {
    let source = Source::new("fuzz.yaml", text);
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
}

/// Compiles `text` as a recipe string and as an expression, and renders both with a small
/// context.
pub fn template(text: &str) {
    let mut builder = TemplateBuilder::new(&Redactor::new());
    let compiled = [builder.string(text), builder.expression(text)];
    let Ok(templates) = builder.finish() else {
        return;
    };
    let ctx = to_value(&serde_json::json!({
        "inputs": {"base_url": "http://127.0.0.1:1", "ids": [1, 2, 3], "flag": true},
        "secrets": {"token": "s3cr3t"},
        "steps": {"first": {"status": 200, "headers": {}, "body": {"items": [{"id": 1}]}}},
        "item": "101",
    }));
    for (tpl, _) in compiled.into_iter().flatten() {
        let _ = templates.json(&tpl, &ctx);
        let _ = templates.text(&tpl, &ctx);
    }
}

#[cfg(test)]
mod tests {
    //! Inputs that once broke something, kept as regression tests.
    use super::*;

    #[test]
    fn odd_recipes_do_not_panic() {
        for text in [
            "",
            "---\n---\n",
            "version: 1\nname: x\nsteps:\n  - id: a\n    request: { url: \"{{\" }\n",
            "version: 1\nname: x\nsteps: [{id: a, for_each: \"{{ [1] }}\", steps: [{id: a, request: {url: 'http://x'}}]}]\n",
            "version: 99999999999999999999\n",
            "&a [*a]",
            "version: 1\nname: x\nsteps:\n  - id: é\n    request: { url: \"http://h\" }\n    capture: { 'x y': '$[' }\n",
        ] {
            recipe(text);
        }
    }

    #[test]
    fn odd_templates_do_not_panic() {
        for text in [
            "{{",
            "}}",
            "{{ 1/0 }}",
            "{{ inputs.ids[99] }}",
            "{% for x in range(99999999) %}{% endfor %}",
            "{{ 'a' * 999 }}",
            "{{ item | b64decode }}",
            "{{ '{' | fromjson }}",
        ] {
            template(text);
        }
    }
}
