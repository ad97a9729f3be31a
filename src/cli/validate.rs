//! `whisk validate FILE...`: load and plan each recipe, print every problem, send nothing.

use super::{Exit, ValidateArgs, print_diagnostics};
use crate::redact::Redactor;

pub fn validate(args: &ValidateArgs, color: bool) -> Exit {
    let mut all = Vec::new();
    for path in &args.recipes {
        match crate::plan::load_and_build(path) {
            Ok(_) => eprintln!("ok   {}", path.display()),
            Err(mut problems) => {
                eprintln!("FAIL {}", path.display());
                all.append(&mut problems);
            }
        }
    }
    if all.is_empty() {
        Exit::Success
    } else {
        eprintln!();
        print_diagnostics(&all, &Redactor::new(), color);
        Exit::Invalid
    }
}
