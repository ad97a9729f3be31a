//! Before a run: the recipe loaded and planned, and the values the user gave bound to it.
//! Every problem is collected; nothing is sent when there is one.

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::plan::Plan;
use crate::plan::bind::{self, Bound, Provided};
use crate::redact::Redactor;

/// A plan with its values, ready to run.
pub struct Prepared {
    pub plan: Plan,
    pub provided: Provided,
    pub bound: Bound,
}

/// Why a recipe cannot run, and the secrets known so far (to mask the problems with).
pub struct Failed {
    pub problems: Vec<Diagnostic>,
    pub redactor: Redactor,
}

/// Plans `recipe` and binds what `given` provides. With `placeholder_secrets`, secrets are
/// not read (replays, dry runs).
pub fn prepare(
    recipe: &Path,
    given: impl FnOnce(&Plan) -> Result<Provided, Vec<Diagnostic>>,
    placeholder_secrets: bool,
) -> Result<Prepared, Failed> {
    let plan = crate::plan::load_and_build(recipe).map_err(|problems| Failed {
        problems,
        redactor: Redactor::new(),
    })?;
    let failed = |problems| Failed {
        problems,
        redactor: plan.redactor.clone(),
    };
    let mut provided = given(&plan).map_err(failed)?;
    provided.placeholder_secrets = placeholder_secrets;
    let bound = bind::bind(&plan, &provided).map_err(failed)?;
    // The bound inputs hold the values now: rows of a large inputs file are not kept twice.
    provided.inputs = Default::default();
    provided.inputs_file = None;
    Ok(Prepared {
        plan,
        provided,
        bound,
    })
}
