//! `whisk schema recipe|report`: the JSON Schemas generated from the Rust types.

use clap::ValueEnum;

use super::Exit;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    Recipe,
    Report,
}

/// The schema as pretty JSON with a trailing newline.
pub fn generate(kind: Kind) -> String {
    let schema = match kind {
        Kind::Recipe => schemars::schema_for!(crate::recipe::Recipe),
        Kind::Report => schemars::schema_for!(crate::report::Report),
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

pub fn print(kind: Kind) -> Exit {
    print!("{}", generate(kind));
    Exit::Success
}
