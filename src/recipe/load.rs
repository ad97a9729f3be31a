//! Reading YAML: the only place that touches the YAML crate. Errors keep the line and column
//! the parser reported, and unknown keys get a "did you mean".

use std::path::Path;

use serde::de::DeserializeOwned;

use super::Recipe;
use crate::diagnostic::{Diagnostic, Kind, LoadKind, did_you_mean};
use crate::source::Source;

pub use serde_saphyr::Spanned;

/// A recipe file that could not be read or does not have the recipe's shape.
#[derive(Debug)]
pub struct LoadError(pub Diagnostic);

/// Reads and parses a recipe file.
pub fn load_file(path: &Path) -> Result<(Source, Recipe), LoadError> {
    let source = Source::read(path)
        .map(|s| s.with_index(super::positions::index))
        .map_err(|error| {
            LoadError(
                Diagnostic::new(
                    Kind::Load(LoadKind::Read),
                    format!("cannot read recipe `{}`: {error}", path.display()),
                )
                .help("check the path; recipe paths are relative to the current directory"),
            )
        })?;
    let recipe = load_str(&source)?;
    Ok((source, recipe))
}

/// The text of a recipe at `path`, indexed for positions.
pub fn source(path: impl Into<std::path::PathBuf>, text: impl Into<String>) -> Source {
    Source::new(path, text).with_index(super::positions::index)
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
    use serde_saphyr::Error as E;
    let (kind, message, help) = match error.without_snippet() {
        E::SerdeUnknownField {
            field, expected, ..
        } => (
            LoadKind::UnknownKey,
            format!("unknown key `{field}`"),
            Some(suggest(field, expected)),
        ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            LoadKind::InvalidValue,
            format!("unknown value `{variant}`"),
            Some(suggest(variant, expected)),
        ),
        E::SerdeMissingField { field, .. } => (
            LoadKind::MissingKey,
            format!("missing key `{field}`"),
            Some(format!("add `{field}:` here")),
        ),
        E::InvalidBooleanStrict { .. } => (
            LoadKind::InvalidValue,
            "invalid boolean".to_string(),
            Some("write `true` or `false`".to_string()),
        ),
        E::InvalidScalar { ty, .. } => (
            LoadKind::InvalidValue,
            format!("invalid {ty}"),
            match *ty {
                "boolean" => Some("write `true` or `false`".to_string()),
                "integer" | "number" => Some(format!("write a {ty} here")),
                _ => None,
            },
        ),
        inner @ (E::SerdeInvalidType { .. }
        | E::SerdeInvalidValue { .. }
        | E::SerdeInvalidLength { .. }
        | E::NullIntoString { .. }
        | E::NonFiniteFloat { .. }
        | E::Message { .. }) => (LoadKind::InvalidValue, error_message(inner), None),
        inner => (LoadKind::Syntax, error_message(inner), None),
    };
    let mut diagnostic = Diagnostic::new(Kind::Load(kind), message);
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

/// "did you mean" one of `expected`, else the list of them.
fn suggest(name: &str, expected: &[&str]) -> String {
    did_you_mean(name, expected.iter().copied()).unwrap_or_else(|| {
        let names: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
        format!("expected one of {}", names.join(", "))
    })
}

/// The message of a YAML error without the location and snippet the crate appends.
fn error_message(error: &serde_saphyr::Error) -> String {
    match error {
        serde_saphyr::Error::Message { msg, .. } => msg.clone(),
        other => {
            let text = other.to_string();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> Diagnostic {
        let source = super::source("r.yaml", text);
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
    fn kinds_come_from_the_parser_not_from_its_messages() {
        assert_eq!(
            error("version: 1\nnmae: x\nsteps: []\n").kind,
            Kind::Load(LoadKind::UnknownKey)
        );
        assert_eq!(error("version: 1\n").kind, Kind::Load(LoadKind::MissingKey));
        assert_eq!(
            error("version: 1\nname: [x\nsteps: []\n").kind,
            Kind::Load(LoadKind::Syntax)
        );
        let variant = error(
            "version: 1\nname: x\nauth:\n  a: { oauth2: { grant: passwrd, token_url: u, client_id: c } }\nsteps: []\n",
        );
        assert_eq!(variant.kind, Kind::Load(LoadKind::InvalidValue));
        assert_eq!(variant.message, "unknown value `passwrd`");
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
