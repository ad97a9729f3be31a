//! `whisk auth logout RECIPE [PROFILE]`: remove a profile's stored tokens (under its lock, so a
//! running refresh finishes first). Tokens are not revoked at the server.

use super::super::Exit;
use super::{LogoutArgs, problem, stored_profiles};
use crate::diagnostic::Console;
use crate::store::TokenStore;

pub async fn logout(args: &LogoutArgs, console: &Console, store: &TokenStore) -> Exit {
    let plan = match crate::plan::load_and_build(&args.recipe) {
        Ok(plan) => plan,
        Err(problems) => {
            console.problems(&problems);
            return Exit::Invalid;
        }
    };
    let mut profiles = stored_profiles(&plan);
    if let Some(wanted) = &args.profile {
        profiles.retain(|(name, _, _)| name == wanted);
        if profiles.is_empty() {
            console.problem(problem(format!(
                "recipe `{}` has no auth profile `{wanted}` with `store:`",
                plan.root.name
            )));
            return Exit::Invalid;
        }
    }
    if profiles.is_empty() {
        console.line(&format!(
            "recipe `{}` has no auth profile with `store:`: nothing to remove",
            plan.root.name
        ));
        return Exit::Success;
    }
    let mut exit = Exit::Success;
    for (profile, key, _) in profiles {
        let removed = match store.lock(&key).await {
            Ok(_lock) => store.remove(&key).await,
            Err(error) => Err(error),
        };
        match removed {
            Ok(true) => console.line(&format!(
                "removed the tokens of profile `{profile}` (key `{key}`) from `{}`",
                store.place()
            )),
            Ok(false) => console.line(&format!(
                "profile `{profile}` (key `{key}`) had no stored tokens"
            )),
            Err(error) => {
                console.problem(problem(error.to_string()));
                exit = Exit::Failed;
            }
        }
    }
    exit
}
