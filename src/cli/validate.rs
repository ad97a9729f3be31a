//! `whisk validate FILE...`: load and plan each recipe, print every problem, send nothing.
//! With `--error-format json`, stderr holds only the diagnostics, one JSON object per line.

use super::{ErrorFormat, Exit, ValidateArgs};
use crate::diagnostic::Console;

pub fn validate(args: &ValidateArgs, console: &Console) -> Exit {
    let human = console.format == ErrorFormat::Human;
    let mut all = Vec::new();
    for path in &args.recipes {
        match crate::plan::load_and_build(path) {
            Ok(_) if human => console.line(&format!("ok   {}", path.display())),
            Ok(_) => {}
            Err(mut problems) => {
                if human {
                    console.line(&format!("FAIL {}", path.display()));
                }
                all.append(&mut problems);
            }
        }
    }
    if all.is_empty() {
        Exit::Success
    } else {
        if human {
            console.line("");
        }
        console.problems(&all);
        Exit::Invalid
    }
}
