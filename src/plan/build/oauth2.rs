//! Validates an `oauth2` profile: the grant's required fields, URLs, the store key, and the
//! sign-in settings of `authorization_code`.

use std::time::Duration;

use super::{At, Builder};
use crate::diagnostic::PlanKind;
use crate::plan::names::Scope;
use crate::plan::precheck::Rule;
use crate::plan::{AssertionPlan, LoginPlan, OAuth2Plan, Tpl};
use crate::recipe;
use crate::source::FieldPath;

const DEFAULT_SKEW: Duration = Duration::from_secs(60);
/// How long an assertion is valid unless the profile says.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

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
        let (client_assertion, assertion) = self.assertions(at, field, oauth2, scope)?;
        let device_authorization_url = self.device(at, field, oauth2, scope, store.is_some());
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
            client_assertion,
            assertion,
            device_authorization_url: match (oauth2.grant, device_authorization_url) {
                (recipe::Grant::DeviceCode, None) => return None,
                (_, device) => device,
            },
        })
    }

    /// The device authorization endpoint: required (with `store`) for `device_code`, allowed
    /// for `authorization_code` (`whisk auth login --device`), refused for other grants.
    fn device(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        oauth2: &recipe::OAuth2,
        scope: &Scope,
        has_store: bool,
    ) -> Option<Tpl> {
        use recipe::Grant;
        let url = oauth2.device_authorization_url.as_ref();
        if oauth2.grant == Grant::DeviceCode && (url.is_none() || !has_store) {
            let missing = match (url.is_none(), has_store) {
                (true, false) => "`device_authorization_url` and `store`",
                (true, true) => "`device_authorization_url`",
                _ => "`store`",
            };
            self.problem(
                PlanKind::Auth,
                at,
                field,
                true,
                format!("grant `device_code` needs {missing}"),
                Some("a person signs in once on another device (`whisk auth login <recipe> <profile>` prints where and the code), and the tokens are kept under the `store` key for later runs".into()),
            );
            return None;
        }
        match (oauth2.grant, url) {
            (Grant::DeviceCode | Grant::AuthorizationCode, Some(url)) => self.checked(
                at,
                &field.key("device_authorization_url"),
                url,
                scope,
                Rule::AuthorizationUrl,
            ),
            (_, Some(_)) => {
                self.problem(
                    PlanKind::Auth,
                    at,
                    &field.key("device_authorization_url"),
                    true,
                    format!(
                        "`device_authorization_url` applies only to grants `device_code` and `authorization_code`, not `{}`",
                        oauth2.grant.name()
                    ),
                    Some("remove it, or use `grant: device_code`".into()),
                );
                None
            }
            (_, None) => None,
        }
    }

    /// The client assertion (`private_key_jwt`, `client_secret_jwt`) and the `jwt_bearer`
    /// grant's assertion, each where it applies and complete; `None` after a problem.
    #[allow(clippy::type_complexity)]
    fn assertions(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        oauth2: &recipe::OAuth2,
        scope: &Scope,
    ) -> Option<(Option<AssertionPlan>, Option<AssertionPlan>)> {
        use recipe::{ClientAuth, Grant, JwtAlg};
        let mut ok = true;
        let mut refuse = |this: &mut Builder, key: &str, message: String, help: &str| {
            this.problem(
                PlanKind::Auth,
                at,
                &field.key(key),
                true,
                message,
                Some(help.into()),
            );
            ok = false;
        };
        let jwt_auth = matches!(
            oauth2.client_auth,
            ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt
        );
        let client = oauth2.client_assertion.as_ref();
        match (oauth2.client_auth, client) {
            (ClientAuth::PrivateKeyJwt, c) if c.and_then(|c| c.key.as_ref()).is_none() => refuse(
                self,
                "client_auth",
                "`client_auth: private_key_jwt` needs `client_assertion.key`, the client's private key".into(),
                "add `client_assertion: { key: \"{{ secrets.private_key }}\" }` with the PEM key in a secret",
            ),
            (ClientAuth::PrivateKeyJwt, _) if oauth2.client_secret.is_some() => refuse(
                self,
                "client_secret",
                "`client_secret` is not sent with `client_auth: private_key_jwt`: the client proves itself with its private key".into(),
                "remove `client_secret`",
            ),
            (ClientAuth::ClientSecretJwt, _) if oauth2.client_secret.is_none() => refuse(
                self,
                "client_auth",
                "`client_auth: client_secret_jwt` needs `client_secret`: the assertion is signed with it (HS256)".into(),
                "add `client_secret: \"{{ secrets.client_secret }}\"`",
            ),
            (ClientAuth::ClientSecretJwt, Some(c)) if c.key.is_some() => refuse(
                self,
                "client_assertion",
                "`client_assertion.key` is for `private_key_jwt`: `client_secret_jwt` signs with the client secret".into(),
                "remove `key`, or use `client_auth: private_key_jwt`",
            ),
            (ClientAuth::ClientSecretJwt, Some(c)) if c.alg.is_some_and(|a| a != JwtAlg::Hs256) => refuse(
                self,
                "client_assertion",
                "`client_secret_jwt` signs with HS256".into(),
                "remove `alg`, or use `client_auth: private_key_jwt` with a private key",
            ),
            (ClientAuth::PrivateKeyJwt, Some(c)) if c.alg == Some(JwtAlg::Hs256) => refuse(
                self,
                "client_assertion",
                "`private_key_jwt` signs with RS256, PS256 or ES256, not HS256".into(),
                "choose one of those, or use `client_auth: client_secret_jwt` (HS256 with the client secret)",
            ),
            (_, Some(_)) if !jwt_auth => refuse(
                self,
                "client_assertion",
                format!("`client_assertion` applies to `client_auth: private_key_jwt` or `client_secret_jwt`, not `{}`", client_auth_name(oauth2.client_auth)),
                "set `client_auth`, or remove `client_assertion`",
            ),
            (_, Some(c)) if c.issuer.is_some() || c.subject.is_some() => refuse(
                self,
                "client_assertion",
                "a client assertion's `iss` and `sub` are the client id (RFC 7523 §3)".into(),
                "remove `issuer` and `subject`",
            ),
            _ => {}
        }
        let bearer = oauth2.assertion.as_ref();
        match (oauth2.grant, bearer) {
            (Grant::JwtBearer, None) => refuse(
                self,
                "grant",
                "grant `jwt_bearer` needs `assertion` (its `key`, `issuer` and `subject`)".into(),
                "add `assertion: { key: \"{{ secrets.private_key }}\", issuer: ..., subject: ... }`",
            ),
            (Grant::JwtBearer, Some(a)) => {
                let missing = missing(&[
                    ("key", a.key.is_some()),
                    ("issuer", a.issuer.is_some()),
                    ("subject", a.subject.is_some()),
                ]);
                if !missing.is_empty() {
                    refuse(
                        self,
                        "assertion",
                        format!(
                            "the `jwt_bearer` assertion needs `{}`",
                            missing.join("`, `")
                        ),
                        "the key signs; `issuer` is who issued the assertion, `subject` the user or service account the token is for",
                    );
                } else if a.alg == Some(JwtAlg::Hs256) {
                    refuse(
                        self,
                        "assertion",
                        "the `jwt_bearer` assertion signs with a private key: RS256, PS256 or ES256".into(),
                        "remove `alg: HS256`",
                    );
                }
            }
            (_, Some(_)) => refuse(
                self,
                "assertion",
                format!(
                    "`assertion` applies to grant `jwt_bearer`, not `{}`",
                    oauth2.grant.name()
                ),
                "remove `assertion`; for JWT client authentication use `client_auth: private_key_jwt` and `client_assertion`",
            ),
            _ => {}
        }
        if !ok {
            return None;
        }
        let client = match (jwt_auth, client) {
            (true, Some(c)) => {
                Some(self.assertion(at, &field.key("client_assertion"), c, scope)?)
            }
            (true, None) => Some(AssertionPlan {
                key: None,
                alg: None,
                kid: None,
                audience: None,
                issuer: None,
                subject: None,
                claims: Vec::new(),
                lifetime: ASSERTION_LIFETIME,
            }),
            (false, _) => None,
        };
        let bearer = match bearer {
            Some(a) => Some(self.assertion(at, &field.key("assertion"), a, scope)?),
            None => None,
        };
        Some((client, bearer))
    }

    fn assertion(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        given: &recipe::JwtAssertion,
        scope: &Scope,
    ) -> Option<AssertionPlan> {
        let one = |this: &mut Builder, key: &str, value: &Option<String>| match value {
            Some(text) => this
                .string(at, &field.key(key), text, scope)
                .map(Some)
                .ok_or(()),
            None => Ok(None),
        };
        let key = one(self, "key", &given.key);
        let kid = one(self, "kid", &given.kid);
        let audience = one(self, "audience", &given.audience);
        let issuer = one(self, "issuer", &given.issuer);
        let subject = one(self, "subject", &given.subject);
        let claims = self.pairs_of(at, &field.key("claims"), &given.claims, scope);
        Some(AssertionPlan {
            key: key.ok()?,
            alg: given.alg,
            kid: kid.ok()?,
            audience: audience.ok()?,
            issuer: issuer.ok()?,
            subject: subject.ok()?,
            claims: claims?,
            lifetime: given.lifetime.map(|d| d.0).unwrap_or(ASSERTION_LIFETIME),
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
        let missing = missing(&[
            ("authorization_url", oauth2.authorization_url.is_some()),
            ("redirect_uri", oauth2.redirect_uri.is_some()),
            ("store", oauth2.store.is_some()),
        ]);
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

/// The keys of `given` that are not given.
fn missing<'k>(given: &[(&'k str, bool)]) -> Vec<&'k str> {
    given
        .iter()
        .filter(|(_, given)| !given)
        .map(|(key, _)| *key)
        .collect()
}

fn client_auth_name(auth: recipe::ClientAuth) -> &'static str {
    match auth {
        recipe::ClientAuth::Basic => "basic",
        recipe::ClientAuth::Body => "body",
        recipe::ClientAuth::PrivateKeyJwt => "private_key_jwt",
        recipe::ClientAuth::ClientSecretJwt => "client_secret_jwt",
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
    fn jwt_client_auth_and_the_bearer_grant_need_their_parts() {
        let cc = "grant: client_credentials, token_url: 'https://idp/t', client_id: c";
        let found = problems(&recipe(&format!(
            "auth:\n  a:\n    oauth2: {{ {cc}, client_auth: private_key_jwt }}\n  b:\n    oauth2: {{ {cc}, client_auth: client_secret_jwt }}\n  c:\n    oauth2: {{ {cc}, client_secret: s, client_assertion: {{ kid: k }} }}\n  d:\n    oauth2: {{ grant: jwt_bearer, token_url: 'https://idp/t', client_id: c, assertion: {{ key: k }} }}\n  e:\n    oauth2: {{ {cc}, assertion: {{ key: k }} }}\n  f:\n    oauth2: {{ {cc}, client_auth: private_key_jwt, client_assertion: {{ key: k, subject: me }} }}\n  g:\n    oauth2: {{ {cc}, client_auth: private_key_jwt, client_secret: s, client_assertion: {{ key: k }} }}\nsteps: []\n"
        )));
        for field in [
            "auth.a.oauth2.client_auth",
            "auth.b.oauth2.client_auth",
            "auth.c.oauth2.client_assertion",
            "auth.d.oauth2.assertion",
            "auth.e.oauth2.assertion",
            "auth.f.oauth2.client_assertion",
            "auth.g.oauth2.client_secret",
        ] {
            assert!(has(&found, PlanKind::Auth, field), "{field}: {found:?}");
        }
        let plan = plan(&recipe(&format!(
            "auth:\n  a:\n    oauth2: {{ {cc}, client_auth: private_key_jwt, client_assertion: {{ key: k, alg: ES256, lifetime: 5m }} }}\nsteps: []\n"
        )));
        let crate::plan::AuthKind::OAuth2(oauth2) = &plan.root.auth["a"].kind else {
            panic!("an oauth2 profile")
        };
        let assertion = oauth2
            .client_assertion
            .as_ref()
            .expect("a client assertion");
        assert_eq!(assertion.lifetime, std::time::Duration::from_secs(300));
    }

    #[test]
    fn the_device_grant_needs_its_endpoint_and_a_store() {
        let found = problems(&recipe(
            "auth:\n  a:\n    oauth2: { grant: device_code, token_url: 'https://idp/t', client_id: c }\n  b:\n    oauth2: { grant: device_code, token_url: 'https://idp/t', client_id: c, device_authorization_url: 'https://idp/d' }\n  c:\n    oauth2: { grant: client_credentials, token_url: 'https://idp/t', client_id: c, device_authorization_url: 'https://idp/d' }\n  d:\n    oauth2: { grant: device_code, token_url: 'https://idp/t', client_id: c, device_authorization_url: 'http://idp/d', store: d }\nsteps: []\n",
        ));
        assert!(has(&found, PlanKind::Auth, "auth.a.oauth2"), "{found:?}");
        assert!(has(&found, PlanKind::Auth, "auth.b.oauth2"), "{found:?}");
        assert!(
            has(
                &found,
                PlanKind::Auth,
                "auth.c.oauth2.device_authorization_url"
            ),
            "{found:?}"
        );
        assert!(
            has(
                &found,
                PlanKind::Url,
                "auth.d.oauth2.device_authorization_url"
            ),
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
