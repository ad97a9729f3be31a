//! A shortcut for the most common template: text with `{{ name.attr }}` holes and nothing else
//! (`"{{ inputs.base_url }}/v1/subscriptions/{{ locator }}/access"`). A fan-out renders one per
//! request; looking the names up and joining the pieces skips minijinja's machinery. Only
//! strings and integers are joined here: any other value (undefined, none, a float, a list)
//! makes the caller render the template with minijinja, so that output and errors are always
//! minijinja's.

use std::fmt::Write as _;

use minijinja::Value;
use minijinja::value::ValueKind;

/// A template as literal text and dotted names.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape(Vec<Piece>);

#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Path(Vec<String>),
}

impl Shape {
    /// The shape of `source`, when it has one: only `{{ a.b.c }}` holes (no filters, calls,
    /// whitespace control, tags or comments) and no trailing newline (minijinja drops it).
    pub fn of(source: &str) -> Option<Shape> {
        if source.ends_with('\n') {
            return None;
        }
        let mut pieces = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("{{") {
            let text = &rest[..start];
            if text.contains("{%") || text.contains("{#") || text.contains("}}") {
                return None;
            }
            if !text.is_empty() {
                pieces.push(Piece::Text(text.to_string()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}")?;
            pieces.push(Piece::Path(path(&after[..end])?));
            rest = &after[end + 2..];
        }
        if rest.contains("{%") || rest.contains("{#") || rest.contains("}}") {
            return None;
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Some(Shape(pieces))
    }

    /// The text, or `None` when a value is not a string or an integer.
    pub fn render(&self, ctx: &Value) -> Option<String> {
        let mut out = String::with_capacity(64);
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Path(names) => {
                    let mut value = ctx.get_attr(&names[0]).ok()?;
                    for name in &names[1..] {
                        value = value.get_attr(name).ok()?;
                    }
                    match value.kind() {
                        ValueKind::String => out.push_str(value.as_str()?),
                        ValueKind::Number if value.is_integer() => {
                            let _ = write!(out, "{value}");
                        }
                        _ => return None,
                    }
                }
            }
        }
        Some(out)
    }
}

/// `a.b.c` inside `{{ }}`: identifiers that are not literals.
fn path(inner: &str) -> Option<Vec<String>> {
    let names: Vec<String> = inner.trim().split('.').map(str::to_string).collect();
    let identifier = |name: &String| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let literal = matches!(
        names[0].as_str(),
        "true" | "false" | "none" | "True" | "False" | "None"
    );
    (!literal && names.iter().all(identifier)).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_holes_have_a_shape() {
        assert!(Shape::of("{{ inputs.base }}/v1/{{ n }}").is_some());
        assert!(Shape::of("plain").is_some());
        for source in [
            "{{ n + 1 }}",
            "{{ n | upper }}",
            "{{- n }}",
            "{{ f() }}",
            "{{ a['b'] }}",
            "{{ true }}",
            "{% if a %}x{% endif %}",
            "{# c #}{{ a }}",
            "{{ a }}\n",
            "{{ a }",
            "x }} {{ a }}",
            "{{ a.1 }}",
        ] {
            assert_eq!(Shape::of(source), None, "{source}");
        }
    }

    #[test]
    fn renders_like_minijinja_or_not_at_all() {
        let ctx = minijinja::context! {
            inputs => minijinja::context! { base => "http://h", n => 7, f => 1.5, none => () },
            locator => "a b",
        };
        let env = minijinja::Environment::new();
        let cases = [
            ("{{ inputs.base }}/x/{{ locator }}/{{ inputs.n }}", true),
            ("{{ inputs.f }}", false),
            ("{{ inputs.none }}", false),
            ("{{ missing }}", false),
            ("{{ inputs.missing }}", false),
            ("{{ inputs }}", false),
        ];
        for (source, fast) in cases {
            let shaped = Shape::of(source).unwrap().render(&ctx);
            assert_eq!(shaped.is_some(), fast, "{source}");
            if let Some(text) = shaped {
                assert_eq!(text, env.render_str(source, &ctx).unwrap());
            }
        }
    }
}
