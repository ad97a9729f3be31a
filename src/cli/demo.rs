//! `whisk demo`: start the sandbox in-process and run the shipped TIBCO recipe against it with
//! 25 child organizations and access tokens that expire mid-run. No network, no credentials.

use std::collections::HashMap;
use std::time::Duration;

use super::{Exit, setup};
use crate::diagnostic::Console;
use crate::plan::bind::{self, Env, Given, Provided};
use crate::sandbox::{Fault, SandboxConfig, SandboxData};
use crate::session::{Settings, execute};

const RECIPE_PATH: &str = "recipes/tibco/enable-api-access.yaml";
const RECIPE: &str = include_str!("../../recipes/tibco/enable-api-access.yaml");
pub const REPORT: &str = "whisk-report.json";

pub async fn demo(console: &Console) -> Exit {
    let mut data = SandboxData::default();
    // Two-second tokens and a little latency on the API: the token runs out mid-run and whisk
    // refreshes it (with a rotating refresh token) without a failed request.
    data.set_access_token_lifetime(2.0);
    data.faults.push(Fault::slow(
        "/tci/v1/subscriptions/*",
        Duration::from_millis(250),
        u32::MAX,
    ));
    let sandbox = match crate::sandbox::start(SandboxConfig::new(data).with_port(0)).await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            console.problem(setup(format!("cannot start the sandbox: {error}")));
            return Exit::Failed;
        }
    };
    let urls = sandbox.urls();
    let credentials = sandbox.credentials().tibco.clone();
    console.line(&format!(
        "whisk demo: sandbox on {}, running {RECIPE_PATH} for {} child organizations\n",
        urls.base,
        credentials.children.len()
    ));
    let source = crate::recipe::load::source(RECIPE_PATH, RECIPE);
    let plan = match crate::recipe::load_str(&source)
        .map_err(|e| vec![e.0])
        .and_then(|recipe| crate::plan::build(source, &recipe))
    {
        Ok(plan) => plan,
        Err(problems) => {
            console.problems(&problems);
            return Exit::Invalid;
        }
    };
    let mut provided = Provided {
        env: Env {
            file: HashMap::from([
                ("TCI_CLIENT_ID".to_string(), credentials.client_id.clone()),
                (
                    "TCI_CLIENT_SECRET".to_string(),
                    credentials.client_secret.clone(),
                ),
                (
                    "TCI_REFRESH_TOKEN".to_string(),
                    credentials.refresh_token.clone(),
                ),
            ]),
            isolated: true,
        },
        ..Provided::default()
    };
    provided
        .inputs
        .insert("base_url".into(), Given::Text(urls.tci_base.clone()));
    provided
        .inputs
        .insert("token_url".into(), Given::Text(urls.tci_token_url.clone()));
    provided.inputs.insert(
        "child_locators".into(),
        Given::Value(serde_json::json!(credentials.children)),
    );
    let bound = match bind::bind(&plan, &provided) {
        Ok(bound) => bound,
        Err(problems) => {
            console.masking(&plan.redactor).problems(&problems);
            return Exit::Invalid;
        }
    };
    // The recipe keeps its rotating refresh token in the token store: the demo's tokens belong
    // to this sandbox only, so they go to a store of their own that ends with the demo.
    let store = match tempfile::Builder::new()
        .prefix("whisk-demo-tokens")
        .tempdir()
    {
        Ok(store) => store,
        Err(error) => {
            console.problem(setup(format!(
                "cannot make a token store for the demo: {error}"
            )));
            return Exit::Failed;
        }
    };
    let mut settings = Settings::new(RECIPE_PATH, Some(REPORT.into()), 0);
    settings.console = console.masking(&plan.redactor);
    settings.token_store = Some(crate::store::TokenStore::new(store.path()));
    // The sandbox answers on this thread's runtime, which waits while a loop's threads run.
    settings.threads = 1;
    let exit = execute(&plan, &bound, provided.env.clone(), &settings).await;
    let stats = sandbox.stats();
    console.line(&format!(
        "\nthe sandbox saw {} token requests ({} refreshes); the report is in {REPORT}",
        stats.token_requests.values().sum::<u64>(),
        stats.token_requests_for("tibco", "refresh_token"),
    ));
    sandbox.shutdown().await;
    exit
}
