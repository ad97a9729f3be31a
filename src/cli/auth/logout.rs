//! `whisk auth logout RECIPE [PROFILE]`: remove a profile's stored tokens (under its lock, so a
//! running refresh finishes first). Tokens are not revoked at the server.

use super::super::{Exit, print_diagnostics};
use super::{LogoutArgs, stored_profiles};
use crate::redact::Redactor;
use crate::store::TokenStore;

pub async fn logout(args: &LogoutArgs, color: bool, store: &TokenStore) -> Exit {
    let plan = match crate::plan::load_and_build(&args.recipe) {
        Ok(plan) => plan,
        Err(problems) => {
            print_diagnostics(&problems, &Redactor::new(), color);
            return Exit::Invalid;
        }
    };
    let mut profiles = stored_profiles(&plan);
    if let Some(wanted) = &args.profile {
        profiles.retain(|(name, _, _)| name == wanted);
        if profiles.is_empty() {
            eprintln!(
                "error: recipe `{}` has no auth profile `{wanted}` with `store:`",
                plan.root.name
            );
            return Exit::Invalid;
        }
    }
    if profiles.is_empty() {
        eprintln!(
            "recipe `{}` has no auth profile with `store:`: nothing to remove",
            plan.root.name
        );
        return Exit::Success;
    }
    let mut exit = Exit::Success;
    for (profile, key, _) in profiles {
        let removed = match store.lock(&key).await {
            Ok(_lock) => store.remove(&key),
            Err(error) => Err(error),
        };
        match removed {
            Ok(true) => eprintln!(
                "removed the tokens of profile `{profile}` (key `{key}`) from `{}`",
                store.dir().display()
            ),
            Ok(false) => eprintln!("profile `{profile}` (key `{key}`) had no stored tokens"),
            Err(error) => {
                eprintln!("error: {error}");
                exit = Exit::Failed;
            }
        }
    }
    exit
}
