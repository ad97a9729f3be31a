//! Reading what the user gives a run: `--input k=v`, `--inputs-file`, `--env-file`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::diagnostic::{CommandKind, Diagnostic, Kind, LoadKind};
use crate::plan::InputPlan;
use crate::plan::bind::{Env, Given, Provided};
use crate::recipe::InputType;
use crate::source::Source;
use crate::source::rows;

/// The flags that give a run its inputs and environment (`run`, `auth login`).
#[derive(clap::Args, Debug)]
pub struct InputArgs {
    /// An input value, parsed by the input's declared type (JSON for arrays and objects).
    #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// A YAML or JSON file of input values (`--input` wins over it); or the rows of an
    /// array input from a CSV or NDJSON file, `NAME=rows.csv` (NAME may be left out when the
    /// recipe has one array input). May be given more than once.
    #[arg(long, value_name = "[NAME=]FILE")]
    pub inputs_file: Vec<String>,
    /// A file of `NAME=VALUE` lines read as environment variables (the real environment wins).
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
}

impl InputArgs {
    /// What the flags give a recipe whose inputs are `declared`.
    pub fn provided(
        &self,
        declared: &IndexMap<String, InputPlan>,
    ) -> Result<Provided, Vec<Diagnostic>> {
        provided(
            &self.inputs,
            &self.inputs_file,
            self.env_file.as_deref(),
            declared,
        )
    }
}

/// Collects inputs and environment from the command line.
pub fn provided(
    inputs: &[String],
    inputs_files: &[String],
    env_file: Option<&Path>,
    declared: &IndexMap<String, InputPlan>,
) -> Result<Provided, Vec<Diagnostic>> {
    let mut provided = Provided::default();
    let mut problems = Vec::new();
    for spec in inputs_files {
        let (name, path) = split_spec(spec);
        let result = match rows::Format::of(path) {
            Some(format) => read_rows(name, path, format, declared).map(|(name, rows)| {
                let given = match rows {
                    rows::Rows::Loaded(rows) => Given::Value(serde_json::Value::Array(rows)),
                    rows::Rows::InPlace(rows) => Given::Rows(rows),
                };
                provided.inputs.insert(name, given);
                None
            }),
            None if name.is_some() => Err(argument(format!(
                "`--inputs-file {spec}`: `NAME=FILE` names an array input for the rows of a CSV or NDJSON file, and `{}` is neither",
                path.display()
            ))
            .help("give a YAML or JSON file of input values without a name")),
            None => read_inputs_file(path).map(|(values, source)| {
                for (name, value) in values {
                    provided.inputs.insert(name, Given::File(value));
                }
                Some(source)
            }),
        };
        match result {
            // Positions for type errors: the file of values (rows are checked as they are read).
            Ok(Some(source)) => {
                provided.inputs_file = Some(std::sync::Arc::new(source));
            }
            Ok(None) => {}
            Err(diagnostic) => problems.push(diagnostic),
        }
    }
    for pair in inputs {
        match pair.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                provided.inputs.insert(name.trim().to_string(), Given::Text(value.to_string()));
            }
            _ => problems.push(
                Diagnostic::new(
                    Kind::Command(CommandKind::Argument),
                    format!("`--input {pair}` is not of the form NAME=VALUE"),
                )
                    .help("write `--input name=value`; arrays and objects as JSON: `--input ids='[\"101\"]'`"),
            ),
        }
    }
    if let Some(path) = env_file {
        match crate::source::read::text(path, crate::source::read::ENV_FILE) {
            Ok(text) => match parse_env_file(&text) {
                Ok(vars) => {
                    provided.env = Env {
                        file: vars,
                        isolated: false,
                    }
                }
                Err((line, message)) => {
                    let source = Source::new(path, text.clone());
                    problems.push(
                        Diagnostic::new(Kind::Load(LoadKind::Syntax), message)
                            .help("each line is `NAME=VALUE`; `#` starts a comment")
                            .at_position(&source, line, 1),
                    );
                }
            },
            Err(error) => problems.push(Diagnostic::new(
                Kind::Load(LoadKind::Read),
                format!("cannot read env file `{}`: {error}", path.display()),
            )),
        }
    }
    if problems.is_empty() {
        Ok(provided)
    } else {
        Err(problems)
    }
}

/// `NAME=FILE` or `FILE`: the name only when it is one (a path may hold `=` too).
fn split_spec(spec: &str) -> (Option<&str>, &Path) {
    match spec.split_once('=') {
        Some((name, path))
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
        {
            (Some(name), Path::new(path))
        }
        _ => (None, Path::new(spec)),
    }
}

/// The rows of a CSV or NDJSON file, for the array input `name` (or the recipe's only one).
fn read_rows(
    name: Option<&str>,
    path: &Path,
    format: rows::Format,
    declared: &IndexMap<String, InputPlan>,
) -> Result<(String, rows::Rows), Diagnostic> {
    let arrays: Vec<&String> = declared
        .iter()
        .filter(|(_, input)| input.kind == InputType::Array)
        .map(|(name, _)| name)
        .collect();
    let name = match name {
        Some(name) => name.to_owned(),
        None => match arrays.as_slice() {
            [only] => (*only).clone(),
            _ => {
                let names: Vec<String> = arrays.iter().map(|n| format!("`{n}`")).collect();
                return Err(argument(format!(
                    "`--inputs-file {}`: which input do its rows go to? The recipe has {}",
                    path.display(),
                    if names.is_empty() {
                        "no array input".to_owned()
                    } else {
                        format!("the array inputs {}", names.join(", "))
                    }
                ))
                .help(format!("name it: `--inputs-file NAME={}`", path.display())));
            }
        },
    };
    let Some(input) = declared.get(&name) else {
        return Err(argument(format!("`{name}` is not an input of the recipe")));
    };
    if input.kind != InputType::Array {
        return Err(argument(format!(
            "input `{name}` is of type `{}`; rows go to an `array` input",
            input.kind.name()
        )));
    }
    let rows = rows::load(path, format, &name, &input.columns)?;
    Ok((name, rows))
}

fn argument(message: String) -> Diagnostic {
    Diagnostic::new(Kind::Command(CommandKind::Argument), message)
}

/// The values of an inputs file, and the file (its positions are indexed only if an error
/// needs them).
fn read_inputs_file(
    path: &Path,
) -> Result<(serde_json::Map<String, serde_json::Value>, Source), Diagnostic> {
    let text = crate::source::read::text(path, crate::source::read::INPUTS).map_err(|error| {
        Diagnostic::new(
            Kind::Load(LoadKind::Read),
            format!("cannot read inputs file `{}`: {error}", path.display()),
        )
    })?;
    let source = crate::recipe::load::source(path, text);
    // A `.json` file is read by a JSON parser: the same values, several times faster on the
    // large lists a fan-out is given.
    let value: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&source.text).map_err(|error| {
            let text = error.to_string();
            let message = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(m, _)| m);
            Diagnostic::new(
                Kind::Load(LoadKind::Syntax),
                format!("the inputs file is not valid JSON: {message}"),
            )
            .help("a `.json` inputs file holds one object of input names to values")
            .at_position(&source, line_of(&error), error.column().max(1) as u32)
        })?
    } else {
        crate::recipe::load::parse(&source)?
    };
    match value {
        serde_json::Value::Object(map) => Ok((map, source)),
        serde_json::Value::Null => Ok((serde_json::Map::new(), source)),
        _ => Err(Diagnostic::new(
            Kind::Load(LoadKind::InvalidValue),
            "an inputs file holds a mapping of input names to values",
        )
        .help("write `name: value` lines")
        .at_position(&source, 1, 1)),
    }
}

fn line_of(error: &serde_json::Error) -> u32 {
    u32::try_from(error.line()).unwrap_or(u32::MAX).max(1)
}

/// Parses `NAME=VALUE` lines (optional `export `, quotes, `#` comments).
pub fn parse_env_file(text: &str) -> Result<HashMap<String, String>, (u32, String)> {
    let mut vars = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err((
                index as u32 + 1,
                format!("line {} of the env file has no `=`", index + 1),
            ));
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err((index as u32 + 1, format!("`{name}` is not a variable name")));
        }
        let value = value.trim();
        let value = if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')))
        {
            &value[1..value.len() - 1]
        } else {
            value
        };
        vars.insert(name.to_string(), value.to_string());
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files() {
        let vars = parse_env_file("# c\nexport A=1\nB = \"two words\"\n\nC='x=y'\n").unwrap();
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two words");
        assert_eq!(vars["C"], "x=y");
        assert_eq!(parse_env_file("A=1\nnope\n").unwrap_err().0, 2);
    }

    #[test]
    fn input_pairs() {
        let provided = provided(&["a=1=2".into()], &[], None, &IndexMap::new()).unwrap();
        assert!(matches!(&provided.inputs["a"], Given::Text(t) if t == "1=2"));
        assert!(provided_err(&["novalue".into()]));
    }

    fn provided_err(inputs: &[String]) -> bool {
        super::provided(inputs, &[], None, &IndexMap::new()).is_err()
    }
}
