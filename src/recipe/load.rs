//! Reading YAML: the only place that touches the YAML crate. Errors keep the line and column
//! the parser reported, and unknown keys get a "did you mean".

use std::path::Path;

use regex::Regex;
use serde::de::DeserializeOwned;

use super::Recipe;
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::source::Source;

pub use serde_saphyr::Spanned;

/// A recipe file that could not be read or does not have the recipe's shape.
#[derive(Debug)]
pub struct LoadError(pub Diagnostic);

/// Reads and parses a recipe file.
pub fn load_file(path: &Path) -> Result<(Source, Recipe), LoadError> {
    let source = Source::read(path).map_err(|error| {
        LoadError(
            Diagnostic::new(format!("cannot read recipe `{}`: {error}", path.display()))
                .help("check the path; recipe paths are relative to the current directory"),
        )
    })?;
    let recipe = load_str(&source)?;
    Ok((source, recipe))
}

/// Parses the text of `source` as a recipe.
pub fn load_str(source: &Source) -> Result<Recipe, LoadError> {
    parse(source).map_err(LoadError)
}

/// Parses `source` as any YAML (or JSON) document of type `T`, with positioned errors.
pub fn parse<T: DeserializeOwned>(source: &Source) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(&source.text, options())
        .map_err(|error| diagnose(source, &error))
}

/// Parses `text` keeping positions; used to index field paths.
pub fn parse_spanned<T: DeserializeOwned>(text: &str) -> Result<Spanned<T>, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, options())
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::Options::default()
}

fn diagnose(source: &Source, error: &serde_saphyr::Error) -> Diagnostic {
    let message = error_message(error);
    let (message, help) = improve(&message);
    let mut diagnostic = Diagnostic::new(message);
    if let Some(help) = help {
        diagnostic = diagnostic.help(help);
    }
    match error.location() {
        Some(location) if location.line() > 0 => diagnostic.at_position(
            source,
            u32::try_from(location.line()).unwrap_or(u32::MAX),
            u32::try_from(location.column()).unwrap_or(1).max(1),
        ),
        _ => diagnostic.in_file(source.name()),
    }
}

/// The message of a YAML error without the location and snippet the crate appends.
fn error_message(error: &serde_saphyr::Error) -> String {
    match error {
        serde_saphyr::Error::Message { msg, .. } => msg.clone(),
        other => {
            let text = other.without_snippet().to_string();
            let first = text.lines().next().unwrap_or_default();
            strip_position_suffix(first).to_string()
        }
    }
}

fn strip_position_suffix(text: &str) -> &str {
    match text.rfind(" at line ") {
        Some(index) => &text[..index],
        None => text,
    }
}

/// Rewrites serde's messages in the house style, with a suggestion where one helps.
fn improve(message: &str) -> (String, Option<String>) {
    let unknown = Regex::new(r"^unknown (field|variant) `([^`]*)`, expected (?:one of )?(.*)$")
        .expect("static regex");
    if let Some(captures) = unknown.captures(message) {
        let what = &captures[1];
        let name = &captures[2];
        let expected: Vec<&str> = captures[3]
            .split(", ")
            .flat_map(|part| part.split(" or "))
            .map(|part| part.trim_matches('`'))
            .filter(|part| !part.is_empty())
            .collect();
        let noun = if what == "field" { "key" } else { "value" };
        let help = did_you_mean(name, expected.iter().copied()).unwrap_or_else(|| {
            format!(
                "expected one of {}",
                expected
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        return (format!("unknown {noun} `{name}`"), Some(help));
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return (
            format!("missing key `{field}`"),
            Some(format!("add `{field}:` here")),
        );
    }
    if message == "invalid boolean" {
        return (
            "invalid boolean".into(),
            Some("write `true` or `false`".into()),
        );
    }
    (message.to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> Diagnostic {
        let source = Source::new("r.yaml", text);
        load_str(&source).unwrap_err().0
    }

    #[test]
    fn unknown_keys_get_a_suggestion_and_a_position() {
        let diagnostic = error("version: 1\nnmae: x\nsteps: []\n");
        assert_eq!(diagnostic.message, "unknown key `nmae`");
        assert_eq!(diagnostic.help.as_deref(), Some("did you mean `name`?"));
        let location = diagnostic.location.unwrap();
        assert_eq!((location.line, location.column), (2, 1));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let diagnostic = error("version: 1\nname: [x\nsteps: []\n");
        let location = diagnostic.location.unwrap();
        assert!(location.line >= 2, "{location:?} {}", diagnostic.message);
    }

    #[test]
    fn type_errors_have_a_position() {
        let diagnostic = error("version: 1\nname: x\nsteps:\n  - id: a\n    idempotent: maybe\n");
        let location = diagnostic.location.unwrap();
        assert_eq!(location.line, 5, "{}", diagnostic.message);
    }
}
