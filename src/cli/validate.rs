//! `whisk validate FILE...`: load and plan each recipe, print every problem, send nothing.
//! With `--error-format json`, stderr holds only the diagnostics, one JSON object per line.

use super::{ErrorFormat, Exit, ValidateArgs, error_format, print_diagnostics};
use crate::redact::Redactor;

pub fn validate(args: &ValidateArgs, color: bool) -> Exit {
    let human = error_format() == ErrorFormat::Human;
    let mut all = Vec::new();
    for path in &args.recipes {
        match crate::plan::load_and_build(path) {
            Ok(_) if human => eprintln!("ok   {}", path.display()),
            Ok(_) => {}
            Err(mut problems) => {
                if human {
                    eprintln!("FAIL {}", path.display());
                }
                all.append(&mut problems);
            }
        }
    }
    if all.is_empty() {
        Exit::Success
    } else {
        if human {
            eprintln!();
        }
        print_diagnostics(&all, &Redactor::new(), color);
        Exit::Invalid
    }
}
