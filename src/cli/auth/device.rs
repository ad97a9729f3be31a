//! `whisk auth login RECIPE PROFILE --device` (and any `device_code` profile): the device
//! authorization grant for machines without a browser. whisk prints where to go and the code
//! to enter, on any other device, then polls until the person approved, and stores the tokens
//! under the profile's key.

use std::io::Write;
use std::time::Instant;

use super::super::Exit;
use super::LoginArgs;
use super::login::{fail, finished, open_browser};
use crate::diagnostic::Console;
use crate::exec::auth::{device, login};
use crate::plan::Plan;
use crate::plan::bind::Bound;
use crate::recipe::Grant;
use crate::store::TokenStore;

pub async fn login(
    args: &LoginArgs,
    console: &Console,
    store: &TokenStore,
    plan: &Plan,
    bound: &Bound,
) -> Exit {
    let redactor = &plan.redactor;
    let signing = match login::sign_in(plan, bound, &args.profile) {
        Ok(signing) => signing,
        Err(error) => return fail(console, &error.message, Exit::Invalid),
    };
    let url = match device::endpoint(plan, &signing) {
        Ok(url) => url,
        Err(error) => return fail(console, &error.message, Exit::Invalid),
    };
    let client = crate::exec::Client::live();
    let code = match device::authorize(&client, &signing, &url, redactor).await {
        Ok(code) => code,
        Err(error) => return fail(console, &error.message, Exit::Auth),
    };
    console.line(&format!(
        "Sign in for auth profile `{}` of `{}` on any device: open\n",
        args.profile,
        args.recipe.display()
    ));
    // The address and the code are for the person: printed unmasked, on stdout.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "  {}", code.verification_uri);
    let _ = writeln!(stdout, "\nand enter the code\n\n  {}\n", code.user_code);
    if let Some(complete) = &code.verification_uri_complete {
        let _ = writeln!(stdout, "(or open {complete}, which has the code in it)");
    }
    let _ = stdout.flush();
    drop(stdout);
    if args.open {
        open_browser(
            code.verification_uri_complete
                .as_deref()
                .unwrap_or(&code.verification_uri),
        );
    }
    console.line(&format!(
        "waiting for the sign-in (the code is good for {}) ...",
        super::login::human(code.expires_in.min(args.timeout))
    ));
    let deadline = Instant::now() + args.timeout;
    let answer = match device::poll(&client, &signing, &code, redactor, deadline).await {
        Ok(answer) => answer,
        Err(error) => return fail(console, &error.message, Exit::Auth),
    };
    if let Err(error) = login::save(
        store,
        &signing.config,
        &signing.key,
        &answer,
        Grant::DeviceCode,
    )
    .await
    {
        return fail(console, &error.message, Exit::Failed);
    }
    finished(console, &args.profile, &signing.key, store, &answer);
    Exit::Success
}
