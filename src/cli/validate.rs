//! `whisk validate FILE...`: load and plan each recipe, print every problem, send nothing.
//! Secrets whose variable is not set (or whose file is missing) here are warnings: the recipe
//! is sound, but a run from this environment would stop before sending anything.
//! With `--error-format json`, stderr holds only the diagnostics, one JSON object per line.

use super::{ErrorFormat, Exit, ValidateArgs};
use crate::diagnostic::{BindKind, Console, Diagnostic, Kind};
use crate::plan::{Plan, SecretPlan};
use crate::source::FieldPath;

pub fn validate(args: &ValidateArgs, console: &Console) -> Exit {
    let human = console.format == ErrorFormat::Human;
    let mut all = Vec::new();
    let mut failed = false;
    for path in &args.recipes {
        match crate::plan::load_and_build(path) {
            Ok(plan) => {
                let mut warnings = unset_secrets(&plan);
                if human {
                    let note = match warnings.len() {
                        0 => String::new(),
                        n => format!(" ({})", crate::plural::count(n, "warning", "warnings")),
                    };
                    console.line(&format!("ok   {}{note}", path.display()));
                }
                all.append(&mut warnings);
            }
            Err(mut problems) => {
                if human {
                    console.line(&format!("FAIL {}", path.display()));
                }
                failed = true;
                all.append(&mut problems);
            }
        }
    }
    if !all.is_empty() {
        if human {
            console.line("");
        }
        console.problems(&all);
    }
    if failed { Exit::Invalid } else { Exit::Success }
}

/// A warning for each secret of the plan's recipes that this environment does not provide.
fn unset_secrets(plan: &Plan) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for recipe in &plan.recipes {
        for (name, source) in &recipe.secrets {
            let (message, help) = match source {
                SecretPlan::Env(var) => match std::env::var_os(var) {
                    Some(value) if !value.is_empty() => continue,
                    Some(_) => (
                        format!(
                            "secret `{name}`: environment variable `{var}` is set but empty here"
                        ),
                        format!("`whisk run` refuses an empty secret: give `{var}` its value"),
                    ),
                    None => (
                        format!("secret `{name}`: environment variable `{var}` is not set here"),
                        format!(
                            "`whisk run` needs it: set `{var}`, or pass `--env-file` with a `{var}=...` line"
                        ),
                    ),
                },
                SecretPlan::File(file) => {
                    let file = crate::plan::bind::secret_file(recipe, file);
                    if file.is_file() {
                        continue;
                    }
                    (
                        format!(
                            "secret `{name}`: file `{}` does not exist here",
                            file.display()
                        ),
                        "secret files are read relative to the recipe's folder".to_owned(),
                    )
                }
            };
            let field = FieldPath::root().key("secrets").key(name);
            warnings.push(
                Diagnostic::new(Kind::Bind(BindKind::MissingSecret), message)
                    .warning()
                    .help(help)
                    .at_field(&recipe.source, &field, false),
            );
        }
    }
    warnings
}
