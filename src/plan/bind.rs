//! Binding values to a plan: inputs from the command line, an inputs file, the environment or
//! their defaults, each checked against its declared type; secrets from the environment or
//! files. A missing or mistyped value is a validation error: nothing is sent.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;

use super::{InputPlan, Plan, RecipePlan, SecretPlan};
use crate::diagnostic::{BindKind, Diagnostic, Kind, did_you_mean};
use crate::recipe::InputType;
use crate::source::rows::FileRows;
use crate::source::{FieldPath, Source};

/// A value given for an input before it is checked against the input's type.
#[derive(Clone, Debug)]
pub enum Given {
    /// Text from `--input k=v` or an environment variable, parsed by the declared type.
    Text(String),
    /// A typed value (a recipe's `with`, a cassette's recorded inputs).
    Value(serde_json::Value),
    /// A typed value from the inputs file, `Provided::inputs_file`: errors point into it.
    File(serde_json::Value),
    /// The rows of a large CSV or NDJSON file, checked, read in place.
    Rows(Arc<FileRows>),
}

/// Array inputs whose rows are read in place from their file, by name.
pub type RowInputs = Arc<std::collections::BTreeMap<String, Arc<FileRows>>>;

/// Environment variables: the process environment, then those of `--env-file`.
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub file: HashMap<String, String>,
    /// When set, the process environment is not read (tests, `with` of sub-recipes).
    pub isolated: bool,
}

impl Env {
    pub fn get(&self, name: &str) -> Option<String> {
        if !self.isolated
            && let Ok(value) = std::env::var(name)
        {
            return Some(value);
        }
        self.file.get(name).cloned()
    }
}

/// What the user gave for a run.
#[derive(Clone, Debug, Default)]
pub struct Provided {
    pub inputs: IndexMap<String, Given>,
    /// The `--inputs-file` the `Given::File` values were read from.
    pub inputs_file: Option<Arc<Source>>,
    pub env: Env,
    /// Bind every secret to its placeholder (see `secret_placeholder`) instead of reading it:
    /// replays and dry runs, which must not need the real values.
    pub placeholder_secrets: bool,
}

/// The stand-in value of secret `name` of the plan's recipe number `recipe` when secrets are
/// not read. Letters, digits and underscores only, so that it survives URL and form encoding.
pub fn secret_placeholder(recipe: usize, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("WHISK_SECRET_{recipe}_{name}_")
}

/// Values bound to a plan.
#[derive(Clone, Debug)]
pub struct Bound {
    /// Shared with the report, which lists them: a fan-out's inputs can hold 10,000 items.
    /// An input in `rows` is here as its file's summary (`FileRows::summary`).
    pub inputs: Arc<serde_json::Map<String, serde_json::Value>>,
    /// The inputs read in place from their file: the root recipe's scope reads them there.
    pub rows: RowInputs,
    /// Secrets of every recipe of the plan, indexed by `RecipePlan::id`.
    pub secrets: Vec<IndexMap<String, String>>,
}

/// Binds inputs of the root recipe and secrets of every recipe.
pub fn bind(plan: &Plan, provided: &Provided) -> Result<Bound, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let root = &plan.root;
    for name in provided.inputs.keys() {
        if !root.inputs.contains_key(name) {
            let mut diagnostic = Diagnostic::new(
                Kind::Bind(BindKind::UnknownInput),
                format!("`{name}` is not an input of recipe `{}`", root.name),
            );
            diagnostic.help = Some(
                did_you_mean(name, root.inputs.keys().map(String::as_str))
                    .unwrap_or_else(|| format!("its inputs are {}", list(root.inputs.keys()))),
            );
            problems.push(diagnostic.in_file(root.source.name()));
        }
    }
    let inputs = match bind_inputs(
        root,
        &provided.inputs,
        &provided.env,
        provided.inputs_file.as_deref(),
    ) {
        Ok(inputs) => inputs,
        Err(mut more) => {
            problems.append(&mut more);
            serde_json::Map::new()
        }
    };
    let mut secrets = Vec::new();
    for (index, recipe) in plan.recipes.iter().enumerate() {
        let mut values = IndexMap::new();
        for (name, source) in &recipe.secrets {
            let field = FieldPath::root().key("secrets").key(name);
            let value = match provided.placeholder_secrets {
                true => Ok(secret_placeholder(index, name)),
                false => read_secret(recipe, source, &provided.env),
            };
            match value.map_err(|(m, h)| (format!("secret `{name}`: {m}"), h)) {
                Ok(value) => {
                    plan.redactor.add(&value);
                    values.insert(name.clone(), value);
                }
                Err((message, help)) => problems.push(
                    Diagnostic::new(Kind::Bind(BindKind::MissingSecret), message)
                        .help(help)
                        .at_field(&recipe.source, &field, false),
                ),
            }
        }
        secrets.push(values);
    }
    let rows: std::collections::BTreeMap<String, Arc<FileRows>> = provided
        .inputs
        .iter()
        .filter_map(|(name, given)| match given {
            Given::Rows(rows) if root.inputs.contains_key(name) => {
                Some((name.clone(), rows.clone()))
            }
            _ => None,
        })
        .collect();
    if problems.is_empty() {
        problems = super::precheck::run(root, &plan.templates, &inputs, &rows, &secrets[root.id]);
    }
    if problems.is_empty() {
        Ok(Bound {
            inputs: Arc::new(inputs),
            rows: Arc::new(rows),
            secrets,
        })
    } else {
        Err(problems)
    }
}

/// Binds the inputs of one recipe: given values, then environment variables, then defaults.
/// A value of the inputs file `file` that does not fit is reported at its place in that file.
pub fn bind_inputs(
    recipe: &RecipePlan,
    given: &IndexMap<String, Given>,
    env: &Env,
    file: Option<&Source>,
) -> Result<serde_json::Map<String, serde_json::Value>, Vec<Diagnostic>> {
    let mut values = serde_json::Map::new();
    let mut problems = Vec::new();
    for (name, input) in &recipe.inputs {
        let field = FieldPath::root().key("inputs").key(name);
        let (value, origin) = match given.get(name) {
            Some(Given::Text(text)) => (coerce(input.kind, text), format!("--input {name}")),
            Some(Given::Value(value)) => (check_type(input.kind, value), format!("input `{name}`")),
            Some(Given::File(value)) => (
                check_type(input.kind, value),
                format!("input `{name}` of the inputs file"),
            ),
            Some(Given::Rows(rows)) => (
                // An array input, checked when the file was named.
                Ok(rows.summary()),
                format!("input `{name}`"),
            ),
            None => match input
                .env
                .as_deref()
                .and_then(|var| Some((var, env.get(var)?)))
            {
                Some((var, text)) => (
                    coerce(input.kind, &text),
                    format!("environment variable `{var}`"),
                ),
                None => match &input.default {
                    Some(default) => (Ok(default.clone()), String::new()),
                    None => {
                        problems.push(missing_input(recipe, name, input, &field));
                        continue;
                    }
                },
            },
        };
        match value {
            Ok(value) => {
                values.insert(name.clone(), value);
            }
            Err(message) => {
                let diagnostic = Diagnostic::new(
                    Kind::Bind(BindKind::InvalidInput),
                    format!("{origin}: {message}"),
                );
                let declared = format!(
                    "input `{name}` is declared with type `{}`",
                    input.kind.name()
                );
                problems.push(match (given.get(name), file) {
                    (Some(Given::File(_)), Some(file)) => diagnostic
                        .help(format!("{declared} in `{}`", recipe.source.name()))
                        .at_field(file, &FieldPath::root().key(name), false),
                    _ => diagnostic
                        .help(declared)
                        .at_field(&recipe.source, &field, true),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

fn missing_input(
    recipe: &RecipePlan,
    name: &str,
    input: &InputPlan,
    field: &FieldPath,
) -> Diagnostic {
    let mut help = format!("pass `--input {name}=...` or put `{name}` in an `--inputs-file`");
    if let Some(var) = &input.env {
        help.push_str(&format!(", or set the environment variable `{var}`"));
    }
    Diagnostic::new(
        Kind::Bind(BindKind::MissingInput),
        format!("missing required input `{name}`"),
    )
    .help(help)
    .at_field(&recipe.source, field, true)
}

/// Where a `{ file: ... }` secret of `recipe` is read from: relative to the recipe's folder.
pub fn secret_file(recipe: &RecipePlan, path: &std::path::Path) -> std::path::PathBuf {
    match path.is_relative() {
        true => recipe
            .source
            .path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(path),
        false => path.to_path_buf(),
    }
}

fn read_secret(
    recipe: &RecipePlan,
    source: &SecretPlan,
    env: &Env,
) -> Result<String, (String, String)> {
    match source {
        SecretPlan::Env(var) => match env.get(var) {
            Some(value) if value.is_empty() => Err((
                format!("environment variable `{var}` is set but empty"),
                format!("give `{var}` the secret's value (an empty secret is always a mistake)"),
            )),
            Some(value) => Ok(value),
            None => Err((
                format!("environment variable `{var}` is not set"),
                format!("set `{var}` in the environment or in an `--env-file`"),
            )),
        },
        SecretPlan::File(path) => {
            let path = secret_file(recipe, path);
            let text =
                crate::source::read::text(&path, crate::source::read::SECRET).map_err(|error| {
                    (
                        format!("cannot read secret file `{}`: {error}", path.display()),
                        "secret files are read relative to the recipe's folder".to_string(),
                    )
                })?;
            let value = text
                .strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(&text);
            if value.is_empty() {
                return Err((
                    format!("secret file `{}` is empty", path.display()),
                    "put the secret's value in the file".to_string(),
                ));
            }
            Ok(value.to_string())
        }
    }
}

/// Parses text given for an input by the input's type (JSON for arrays and objects).
pub fn coerce(kind: InputType, text: &str) -> Result<serde_json::Value, String> {
    match kind {
        InputType::String => Ok(serde_json::Value::String(text.to_string())),
        InputType::Integer => text
            .trim()
            .parse::<i64>()
            .map(serde_json::Value::from)
            .map_err(|_| format!("expected an integer, found `{text}`")),
        InputType::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(serde_json::Value::Number)
            .ok_or_else(|| format!("expected a number, found `{text}`")),
        InputType::Boolean => match text.trim() {
            "true" => Ok(serde_json::Value::Bool(true)),
            "false" => Ok(serde_json::Value::Bool(false)),
            _ => Err(format!("expected `true` or `false`, found `{text}`")),
        },
        InputType::Array | InputType::Object => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                format!(
                    "expected a JSON {}, such as {}: {e}",
                    kind.name(),
                    example(kind)
                )
            })?;
            check_type(kind, &value)
        }
    }
}

/// Checks a typed value against an input type.
pub fn check_type(kind: InputType, value: &serde_json::Value) -> Result<serde_json::Value, String> {
    let ok = match kind {
        InputType::String => value.is_string(),
        InputType::Integer => value.is_i64() || value.is_u64(),
        InputType::Number => value.is_number(),
        InputType::Boolean => value.is_boolean(),
        InputType::Array => value.is_array(),
        InputType::Object => value.is_object(),
    };
    if ok {
        Ok(value.clone())
    } else {
        Err(format!(
            "expected {} {}, found `{value}`",
            article(kind),
            kind.name()
        ))
    }
}

fn article(kind: InputType) -> &'static str {
    match kind {
        InputType::Integer | InputType::Array | InputType::Object => "an",
        _ => "a",
    }
}

fn example(kind: InputType) -> &'static str {
    match kind {
        InputType::Array => "`[\"101\",\"102\"]`",
        _ => "`{\"key\":\"value\"}`",
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coerces_by_type() {
        assert_eq!(coerce(InputType::Integer, "42").unwrap(), json!(42));
        assert_eq!(coerce(InputType::Boolean, "true").unwrap(), json!(true));
        assert_eq!(
            coerce(InputType::Array, r#"["101","102"]"#).unwrap(),
            json!(["101", "102"])
        );
        assert_eq!(coerce(InputType::String, "[1]").unwrap(), json!("[1]"));
        assert!(
            coerce(InputType::Integer, "4.5")
                .unwrap_err()
                .contains("integer")
        );
        assert!(
            coerce(InputType::Array, "{}")
                .unwrap_err()
                .contains("expected an array")
        );
        assert!(coerce(InputType::Object, "nope").is_err());
    }

    #[test]
    fn checks_typed_values() {
        assert!(check_type(InputType::Number, &json!(3)).is_ok());
        assert!(check_type(InputType::Integer, &json!(3.5)).is_err());
        assert!(check_type(InputType::String, &json!(3)).is_err());
    }
}
