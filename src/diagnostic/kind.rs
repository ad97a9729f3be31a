//! What a diagnostic is about, by stage, listing every case: tools that read
//! `--error-format json` tell problems apart by `kind` (`plan.undefined_name`), never by
//! parsing messages.

use std::fmt;

/// The kind of a problem: its stage, and the case within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Reading a recipe, an inputs file or a data file into its model.
    Load(LoadKind),
    /// Validating a recipe into a plan.
    Plan(PlanKind),
    /// Binding inputs, secrets and settings to a plan, before anything is sent.
    Bind(BindKind),
    /// The command line and the files it names.
    Command(CommandKind),
}

/// Reading a file into its model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadKind {
    /// The file could not be read.
    Read,
    /// Not valid YAML, JSON, CSV or NDJSON.
    Syntax,
    /// A key the format does not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type or shape.
    InvalidValue,
}

/// Validating a recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// `version` is not one this whisk reads.
    Version,
    /// An input or secret declared wrongly (a default of another type, no source).
    Declaration,
    /// A name (input, secret, step id, capture, loop variable) is not a valid identifier.
    Name,
    /// A step id is used twice.
    Duplicate,
    /// A template reads a name that is not in scope.
    UndefinedName,
    /// A name hides an input, a secret or a capture.
    Shadows,
    /// A template or expression does not parse.
    Template,
    /// A JSONPath does not parse, or uses a form whisk refuses.
    JsonPath,
    /// A regex does not parse.
    Regex,
    /// An unknown HTTP method, header name or body form.
    Request,
    /// A URL (or a URL policy) that cannot be used.
    Url,
    /// A status or status class that is not one.
    Status,
    /// A retry, concurrency, timeout or size setting out of range.
    Limit,
    /// An auth profile that is incomplete, contradictory or unknown.
    Auth,
    /// Keys that do not go together on a step (a block without `for_each`, two bodies, ...).
    Structure,
    /// A `uses` that cannot be loaded, cycles, or does not match the used recipe's inputs.
    Uses,
}

/// Binding values to a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BindKind {
    /// A required input was not given.
    MissingInput,
    /// A value was given for a name that is not an input.
    UnknownInput,
    /// An input's value does not have its declared type.
    InvalidInput,
    /// A secret's environment variable or file is missing, or empty.
    MissingSecret,
    /// A field that renders, with the given inputs, to something that cannot be sent.
    Rendered,
}

/// The command line and the files it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    /// A flag's value that cannot be used.
    Argument,
    /// A file that cannot be read or written.
    File,
    /// `--lock` is held by another run.
    Lock,
    /// `--resume` names a report that cannot be resumed.
    Resume,
    /// A cassette or snapshot of `whisk record` / `whisk test`.
    Cassette,
    /// `whisk auth`: sign-in and the token store.
    Auth,
    /// The process could not set itself up (a runtime, a thread, a sandbox).
    Setup,
    /// Reports given to `whisk report merge` that are not the shards of one run.
    Merge,
}

impl Kind {
    fn stage(self) -> &'static str {
        match self {
            Kind::Load(_) => "load",
            Kind::Plan(_) => "plan",
            Kind::Bind(_) => "bind",
            Kind::Command(_) => "command",
        }
    }

    fn case(self) -> String {
        let value = match self {
            Kind::Load(kind) => serde_json::to_value(kind),
            Kind::Plan(kind) => serde_json::to_value(kind),
            Kind::Bind(kind) => serde_json::to_value(kind),
            Kind::Command(kind) => serde_json::to_value(kind),
        };
        value
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// `stage.case`, e.g. `plan.undefined_name`.
impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.stage(), self.case())
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_stage_dot_case() {
        assert_eq!(
            Kind::Plan(PlanKind::UndefinedName).to_string(),
            "plan.undefined_name"
        );
        assert_eq!(
            Kind::Load(LoadKind::UnknownKey).to_string(),
            "load.unknown_key"
        );
        assert_eq!(
            serde_json::to_value(Kind::Command(CommandKind::File)).unwrap(),
            "command.file"
        );
    }
}
