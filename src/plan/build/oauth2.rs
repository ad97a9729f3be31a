//! Validates an `oauth2` profile: the grant's required fields, URLs, the store key, and the
//! sign-in settings of `authorization_code`.

use std::time::Duration;

use super::{At, Builder};
use crate::diagnostic::PlanKind;
use crate::plan::names::Scope;
use crate::plan::precheck::Rule;
use crate::plan::{LoginPlan, OAuth2Plan, Tpl};
use crate::recipe;
use crate::source::FieldPath;

const DEFAULT_SKEW: Duration = Duration::from_secs(60);

impl Builder {
    pub(super) fn oauth2(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        oauth2: &recipe::OAuth2,
        scope: &Scope,
    ) -> Option<OAuth2Plan> {
        if oauth2.grant == recipe::Grant::RefreshToken && oauth2.refresh_token.is_none() {
            self.problem(
                PlanKind::Auth,
                at,
                field,
                true,
                "grant `refresh_token` needs `refresh_token`".into(),
                Some("add `refresh_token: \"{{ secrets.refresh_token }}\"`".into()),
            );
        }
        let store = oauth2.store.as_ref().and_then(|key| {
            match crate::store::check_key(key) {
                Ok(()) => Some(key.clone()),
                Err(message) => {
                    self.problem(PlanKind::Auth, at, &field.key("store"), false, message, Some("a store key names a file: use letters, digits, `_`, `.` and `-`, such as `tci-parent`".into()));
                    None
                }
            }
        });
        let login = self.login(at, field, oauth2, scope, store.is_some());
        let token_url = self.checked(
            at,
            &field.key("token_url"),
            &oauth2.token_url,
            scope,
            Rule::TokenUrl,
        );
        let client_id = self.string(at, &field.key("client_id"), &oauth2.client_id, scope);
        let client_secret = oauth2
            .client_secret
            .as_ref()
            .map(|s| self.string(at, &field.key("client_secret"), s, scope));
        let refresh_token = oauth2
            .refresh_token
            .as_ref()
            .map(|s| self.string(at, &field.key("refresh_token"), s, scope));
        let scope_parts: Vec<Option<Tpl>> = oauth2
            .scope
            .as_ref()
            .map(|s| s.parts())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let f = match &oauth2.scope {
                    Some(recipe::Scope::Many(_)) => field.key("scope").index(i),
                    _ => field.key("scope"),
                };
                self.string(at, &f, part, scope)
            })
            .collect();
        let params = self.pairs_of(at, &field.key("params"), &oauth2.params, scope);
        Some(OAuth2Plan {
            grant: oauth2.grant,
            token_url: token_url?,
            client_id: client_id?,
            client_secret: client_secret.map(|s| s.ok_or(())).transpose().ok()?,
            client_auth: oauth2.client_auth,
            refresh_token: refresh_token.map(|s| s.ok_or(())).transpose().ok()?,
            scope: scope_parts.into_iter().collect::<Option<_>>()?,
            params: params?,
            refresh_skew: oauth2.refresh_skew.map(|d| d.0).unwrap_or(DEFAULT_SKEW),
            store: match (&oauth2.store, store) {
                (Some(_), None) => return None,
                (_, store) => store,
            },
            login: match (oauth2.grant, login) {
                (recipe::Grant::AuthorizationCode, None) => return None,
                (_, login) => login,
            },
        })
    }

    /// The sign-in settings: required for `authorization_code`, refused for other grants.
    fn login(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        oauth2: &recipe::OAuth2,
        scope: &Scope,
        has_store: bool,
    ) -> Option<LoginPlan> {
        let code_grant = oauth2.grant == recipe::Grant::AuthorizationCode;
        if !code_grant {
            let given = [
                ("authorization_url", oauth2.authorization_url.is_some()),
                ("redirect_uri", oauth2.redirect_uri.is_some()),
                (
                    "authorization_params",
                    !oauth2.authorization_params.is_empty(),
                ),
                ("pkce", oauth2.pkce.is_some()),
            ];
            for (key, _) in given.iter().filter(|(_, given)| *given) {
                self.problem(
                    PlanKind::Auth,
                    at,
                    &field.key(key),
                    true,
                    format!(
                        "`{key}` applies only to grant `authorization_code`, not `{}`",
                        oauth2.grant.name()
                    ),
                    Some(format!(
                        "remove `{key}`, or use `grant: authorization_code` and sign in once with `whisk auth login`"
                    )),
                );
            }
            return None;
        }
        let missing: Vec<&str> = [
            ("authorization_url", oauth2.authorization_url.is_some()),
            ("redirect_uri", oauth2.redirect_uri.is_some()),
            ("store", oauth2.store.is_some()),
        ]
        .into_iter()
        .filter(|(_, given)| !given)
        .map(|(key, _)| key)
        .collect();
        let complete = missing.is_empty();
        if !complete {
            let names: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
            let names = match names.as_slice() {
                [one] => one.clone(),
                [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
                [] => String::new(),
            };
            self.problem(
                PlanKind::Auth,
                at,
                field,
                true,
                format!("grant `authorization_code` needs {names}"),
                Some("a person signs in once at `authorization_url` (`whisk auth login`), the provider sends the code to the registered `redirect_uri`, and the tokens are kept under the `store` key for later runs".into()),
            );
        }
        let authorization_url = oauth2.authorization_url.as_ref().and_then(|url| {
            let f = field.key("authorization_url");
            self.checked(at, &f, url, scope, Rule::AuthorizationUrl)
        });
        let redirect_uri = oauth2.redirect_uri.as_ref().and_then(|uri| {
            let tpl = self.string(at, &field.key("redirect_uri"), uri, scope)?;
            if let Tpl::Literal(serde_json::Value::String(uri)) = &tpl
                && let Err(message) = reqwest::Url::parse(uri)
            {
                self.problem(
                    PlanKind::Url,
                    at,
                    &field.key("redirect_uri"),
                    false,
                    format!("`{uri}` is not a valid redirect URI: {message}"),
                    Some(
                        "write the redirect URI exactly as it is registered for the client".into(),
                    ),
                );
                return None;
            }
            Some(tpl)
        });
        let params = self.pairs_of(
            at,
            &field.key("authorization_params"),
            &oauth2.authorization_params,
            scope,
        );
        if !complete || !has_store {
            return None;
        }
        Some(LoginPlan {
            authorization_url: authorization_url?,
            redirect_uri: redirect_uri?,
            params: params?,
            pkce: oauth2.pkce.unwrap_or(true),
        })
    }

    /// A map of names to string templates, each compiled; `None` when any fails.
    fn pairs_of(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        pairs: &indexmap::IndexMap<String, String>,
        scope: &Scope,
    ) -> Option<Vec<(String, Tpl)>> {
        let compiled: Vec<(String, Option<Tpl>)> = pairs
            .iter()
            .map(|(k, v)| (k.clone(), self.string(at, &field.key(k), v, scope)))
            .collect();
        compiled
            .into_iter()
            .map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;

    #[test]
    fn grants_need_their_fields_and_urls_are_https_off_loopback() {
        let found = problems(&recipe(
            "auth:\n  a:\n    oauth2: { grant: refresh_token, token_url: 'http://idp.example/token', client_id: c }\n  b:\n    oauth2: { grant: authorization_code, token_url: 'https://idp/t', client_id: c }\n  c:\n    oauth2: { grant: client_credentials, token_url: 'https://idp/t', client_id: c, store: 'a/b' }\nsteps: []\n",
        ));
        assert!(has(&found, PlanKind::Auth, "auth.a.oauth2"), "{found:?}");
        assert!(
            has(&found, PlanKind::Url, "auth.a.oauth2.token_url"),
            "{found:?}"
        );
        assert!(has(&found, PlanKind::Auth, "auth.b.oauth2"), "{found:?}");
        assert!(
            has(&found, PlanKind::Auth, "auth.c.oauth2.store"),
            "{found:?}"
        );
    }

    #[test]
    fn the_skew_defaults_to_a_minute() {
        let plan = plan(&recipe(
            "auth:\n  a:\n    oauth2: { grant: client_credentials, token_url: 'http://127.0.0.1:9/t', client_id: c }\nsteps: []\n",
        ));
        let crate::plan::AuthKind::OAuth2(oauth2) = &plan.root.auth["a"].kind else {
            panic!("an oauth2 profile")
        };
        assert_eq!(oauth2.refresh_skew, std::time::Duration::from_secs(60));
    }
}
