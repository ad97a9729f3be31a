//! Fields whose templates read nothing but inputs and secrets can be rendered as soon as the
//! values are bound, before anything is sent: a URL that does not parse with the inputs given
//! (a missing scheme, say), a token URL that is not HTTPS, a `concurrency` below 1. The plan
//! lists them (`RecipePlan::prechecks`); `bind` renders and checks them.

use std::collections::HashSet;

use indexmap::IndexMap;

use super::{RecipePlan, Templates, Tpl};
use crate::diagnostic::{BindKind, Diagnostic, Kind};
use crate::source::FieldPath;
use crate::urls::{check_authorization_url, check_token_url, check_url};

/// What a field's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// An absolute `http` or `https` URL.
    Url,
    /// The same, HTTPS unless on loopback.
    TokenUrl,
    AuthorizationUrl,
    /// A positive integer (a loop's `concurrency`).
    Concurrency,
}

impl Rule {
    /// Checks a field's rendered value.
    pub fn check(self, value: &serde_json::Value) -> Result<(), String> {
        let text = || match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        match self {
            Rule::Url => check_url(&text()),
            Rule::TokenUrl => check_token_url(&text()),
            Rule::AuthorizationUrl => check_authorization_url(&text()),
            Rule::Concurrency => concurrency(value).map(|_| ()),
        }
    }

    /// What to do when a value breaks the rule.
    pub fn help(self) -> &'static str {
        match self {
            Rule::Url => "write an absolute URL such as `https://api.example.com/v1/items`",
            Rule::TokenUrl => {
                "use an `https://` token URL (plain `http://` is allowed only for loopback addresses)"
            }
            Rule::AuthorizationUrl => {
                "use an `https://` authorization URL (plain `http://` is allowed only for loopback addresses)"
            }
            Rule::Concurrency => "give a whole number of at least 1",
        }
    }
}

/// A loop's concurrency from its rendered value: a positive integer, or text of one.
pub fn concurrency(value: &serde_json::Value) -> Result<usize, String> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n| *n >= 1)
        .map(|n| n as usize)
        .ok_or_else(|| format!("concurrency must be a positive integer, found `{value}`"))
}

/// A field to check once inputs and secrets are bound.
#[derive(Clone, Debug)]
pub struct Precheck {
    pub tpl: Tpl,
    pub rule: Rule,
    pub field: FieldPath,
    pub step: Option<String>,
    /// The inputs the template reads, for the message.
    pub inputs: Vec<String>,
}

/// Whether a template reading `vars` can be rendered at binding: it reads something, and
/// only inputs and secrets.
pub fn bindable(vars: &HashSet<String>) -> bool {
    !vars.is_empty()
        && vars
            .iter()
            .all(|v| matches!(v.split('.').next(), Some("inputs" | "secrets")))
}

/// The inputs among `vars` (`inputs.base_url` → `base_url`), sorted.
pub fn inputs_read(vars: &HashSet<String>) -> Vec<String> {
    let mut names: Vec<String> = vars
        .iter()
        .filter_map(|v| v.strip_prefix("inputs."))
        .map(|v| v.split('.').next().unwrap_or(v).to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Renders and checks the prechecks of `recipe` with its bound values. A template that does
/// not render here (a key missing from an object input, say) is left to the run, which
/// reports it where it happens.
pub fn run(
    recipe: &RecipePlan,
    templates: &Templates,
    inputs: &serde_json::Map<String, serde_json::Value>,
    in_place: &std::collections::BTreeMap<String, std::sync::Arc<crate::source::rows::FileRows>>,
    secrets: &IndexMap<String, String>,
) -> Vec<Diagnostic> {
    if recipe.prechecks.is_empty() {
        return Vec::new();
    }
    let ctx = super::template::to_value(&serde_json::json!({
        "inputs": inputs,
        "secrets": secrets,
    }));
    let mut problems = Vec::new();
    for check in &recipe.prechecks {
        // Rows read in place from their file are left to the run.
        if check.inputs.iter().any(|name| in_place.contains_key(name)) {
            continue;
        }
        let Ok(value) = templates.json(&check.tpl, &ctx) else {
            continue;
        };
        let Err(message) = check.rule.check(&value) else {
            continue;
        };
        let mut help = check.rule.help().to_owned();
        if !check.inputs.is_empty() {
            let names: Vec<String> = check.inputs.iter().map(|n| format!("`{n}`")).collect();
            help = format!("{help}; it is made of input {}", names.join(", "));
        }
        let mut diagnostic = Diagnostic::new(
            Kind::Bind(BindKind::Rendered),
            format!("with the inputs given, {message}"),
        )
        .help(help)
        .at_field(&recipe.source, &check.field, false);
        if let Some(step) = &check.step {
            diagnostic = diagnostic.step(step);
        }
        problems.push(diagnostic);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let s = |t: &str| serde_json::Value::String(t.into());
        assert!(Rule::Url.check(&s("https://x/v1")).is_ok());
        assert!(Rule::Url.check(&s("api.example.com/v1")).is_err());
        assert!(Rule::Url.check(&s("ftp://x")).is_err());
        assert!(Rule::TokenUrl.check(&s("http://idp.example/t")).is_err());
        assert!(Rule::TokenUrl.check(&s("http://127.0.0.1:9/t")).is_ok());
        assert_eq!(concurrency(&serde_json::json!(4)), Ok(4));
        assert_eq!(concurrency(&s(" 8 ")), Ok(8));
        assert!(concurrency(&serde_json::json!(0)).is_err());
        assert!(concurrency(&s("many")).is_err());
    }

    #[test]
    fn only_inputs_and_secrets_are_bindable() {
        let vars = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        assert!(bindable(&vars(&["inputs.base", "secrets.key"])));
        assert!(!bindable(&vars(&["inputs.base", "item"])));
        assert!(!bindable(&vars(&[])));
        assert_eq!(
            inputs_read(&vars(&["inputs.base", "inputs.org.id", "secrets.k"])),
            vec!["base", "org"]
        );
    }
}
