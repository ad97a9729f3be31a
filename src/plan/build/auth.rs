//! Auth profiles: exactly one kind each, their templates (inputs and secrets only: profiles
//! are resolved before any step runs), and `refresh_on`.

use std::sync::Arc;

use indexmap::IndexMap;

use super::{At, Builder};
use crate::diagnostic::PlanKind;
use crate::plan::names::Scope;
use crate::plan::{AuthKind, AuthPlan, RefreshOnPlan};
use crate::recipe::{self, Recipe};
use crate::source::FieldPath;

impl Builder {
    pub(super) fn auth(
        &mut self,
        at: At<'_>,
        recipe: &Recipe,
        scope: &Scope,
    ) -> IndexMap<String, Arc<AuthPlan>> {
        // Auth profiles see inputs and secrets only: they are resolved before any step runs.
        let scope = Scope {
            inputs: scope.inputs.clone(),
            secrets: scope.secrets.clone(),
            globals: scope.globals.clone(),
            ..Scope::default()
        };
        let mut profiles = IndexMap::new();
        for (name, profile) in &recipe.auth {
            let field = FieldPath::root().key("auth").key(name);
            if name == "none" {
                self.problem(
                    PlanKind::Auth,
                    at,
                    &field,
                    true,
                    "an auth profile cannot be named `none`".into(),
                    Some("`none` means \"no auth\" in `defaults.auth` and `steps[].auth`".into()),
                );
            }
            if let Some(plan) = self.profile(at, &field, name, profile, &scope) {
                profiles.insert(name.clone(), Arc::new(plan));
            }
        }
        profiles
    }

    fn profile(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        name: &str,
        profile: &recipe::AuthProfile,
        scope: &Scope,
    ) -> Option<AuthPlan> {
        let kinds = [
            profile.oauth2.is_some(),
            profile.bearer.is_some(),
            profile.basic.is_some(),
            profile.header.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            self.problem(PlanKind::Auth, at, field, true, format!("auth profile `{name}` needs exactly one of `oauth2`, `bearer`, `basic` or `header`"), None);
            return None;
        }
        let kind = if let Some(oauth2) = &profile.oauth2 {
            AuthKind::OAuth2(Box::new(self.oauth2(
                at,
                &field.key("oauth2"),
                oauth2,
                scope,
            )?))
        } else if let Some(bearer) = &profile.bearer {
            AuthKind::Bearer(self.string(at, &field.key("bearer"), bearer, scope)?)
        } else if let Some(basic) = &profile.basic {
            AuthKind::Basic {
                username: self.string(
                    at,
                    &field.key("basic").key("username"),
                    &basic.username,
                    scope,
                )?,
                password: self.string(
                    at,
                    &field.key("basic").key("password"),
                    &basic.password,
                    scope,
                )?,
            }
        } else {
            let header = profile.header.as_ref()?;
            AuthKind::Header {
                name: header.name.clone(),
                value: self.string(at, &field.key("header").key("value"), &header.value, scope)?,
            }
        };
        let refresh_on = match (&profile.refresh_on, &kind) {
            (Some(_), AuthKind::OAuth2(_)) | (None, _) => profile
                .refresh_on
                .as_ref()
                .map(|conditions| {
                    conditions
                        .iter()
                        .map(|c| RefreshOnPlan {
                            status: c.status.unwrap_or(401),
                            body_contains: c.body_contains.clone(),
                        })
                        .collect()
                })
                .unwrap_or_else(|| {
                    vec![RefreshOnPlan {
                        status: 401,
                        body_contains: None,
                    }]
                }),
            (Some(_), _) => {
                self.problem(
                    PlanKind::Auth,
                    at,
                    &field.key("refresh_on"),
                    true,
                    "`refresh_on` applies only to `oauth2` profiles".into(),
                    Some("a fixed credential cannot be refreshed; remove `refresh_on`".into()),
                );
                Vec::new()
            }
        };
        let client_cert = match &profile.client_cert {
            Some(cert) => Some(self.client_cert(at, &field.key("client_cert"), cert, scope)?),
            None => None,
        };
        Some(AuthPlan {
            name: name.to_string(),
            kind,
            refresh_on,
            client_cert,
        })
    }

    /// A client certificate's templates, compiled.
    pub(super) fn client_cert(
        &mut self,
        at: At<'_>,
        field: &FieldPath,
        cert: &recipe::ClientCert,
        scope: &Scope,
    ) -> Option<crate::plan::CertPlan> {
        let pem = self.string(at, &field.key("cert"), &cert.cert, scope);
        let key = self.string(at, &field.key("key"), &cert.key, scope);
        Some(crate::plan::CertPlan {
            cert: pem?,
            key: key?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::diagnostic::PlanKind;
    use crate::plan::AuthKind;

    #[test]
    fn a_profile_has_exactly_one_kind_and_refresh_on_only_for_oauth2() {
        let found = problems(&recipe(
            "auth:\n  none: { bearer: t }\n  two: { bearer: t, basic: { username: u, password: p } }\n  fixed:\n    bearer: t\n    refresh_on: [{ status: 401 }]\nsteps: []\n",
        ));
        assert!(has(&found, PlanKind::Auth, "auth.none"), "{found:?}");
        assert!(has(&found, PlanKind::Auth, "auth.two"), "{found:?}");
        assert!(
            has(&found, PlanKind::Auth, "auth.fixed.refresh_on"),
            "{found:?}"
        );
    }

    #[test]
    fn profiles_see_inputs_and_secrets_and_refresh_on_any_401_by_default() {
        let plan = plan(&recipe(
            "auth:\n  key: { header: { name: X-Key, value: '{{ inputs.base }}' } }\nsteps: []\n",
        ));
        let profile = &plan.root.auth["key"];
        assert!(matches!(profile.kind, AuthKind::Header { .. }));
        assert_eq!(profile.refresh_on.len(), 1);
        assert_eq!(profile.refresh_on[0].status, 401);
        let found = problems(&recipe(
            "auth:\n  key: { bearer: '{{ steps.a.body }}' }\nsteps: []\n",
        ));
        assert!(
            has(&found, PlanKind::UndefinedName, "auth.key.bearer"),
            "{found:?}"
        );
    }
}
