//! The token side of `whisk auth login`: a profile's sign-in settings rendered, the code
//! exchanged at the token endpoint (with the PKCE verifier), and the tokens stored under the
//! profile's key.

use reqwest::Url;

use super::token::{self, AuthError, TokenAnswer};
use super::{Config, Resolver, profile_context};
use crate::plan::bind::Bound;
use crate::plan::{AuthKind, AuthPlan, OAuth2Plan, Plan};
use crate::recipe::Grant;
use crate::store::{Record, TokenStore, VERSION, unix_now, unix_now_ms};

/// A profile ready for a sign-in.
pub struct LoginTarget {
    pub config: Config,
    pub authorization_url: Url,
    pub redirect_uri: String,
    pub params: Vec<(String, String)>,
    pub pkce: bool,
    /// The store key the tokens go to.
    pub key: String,
}

/// A profile of the root recipe, rendered for a sign-in: its settings, and the key its tokens
/// go under.
pub struct SignIn<'p> {
    pub profile: &'p AuthPlan,
    pub oauth2: &'p OAuth2Plan,
    pub config: Config,
    pub key: String,
    ctx: minijinja::Value,
    identity: Option<std::sync::Arc<crate::exec::tls::Identity>>,
}

impl SignIn<'_> {
    /// The inputs and secrets of the profile's recipe.
    pub fn context(&self) -> &minijinja::Value {
        &self.ctx
    }

    fn resolver<'a>(&'a self, plan: &'a Plan) -> Resolver<'a> {
        Resolver {
            templates: &plan.templates,
            ctx: &self.ctx,
            cache: None,
            identity: self.identity.clone(),
        }
    }
}

/// Renders `oauth2` profile `name` of the plan's root recipe, which must keep its tokens.
pub fn sign_in<'p>(plan: &'p Plan, bound: &Bound, name: &str) -> Result<SignIn<'p>, AuthError> {
    let recipe = &plan.root;
    let fail = |message: String| AuthError::new(message);
    let Some(profile) = recipe.auth.get(name) else {
        let known: Vec<String> = recipe.auth.keys().map(|k| format!("`{k}`")).collect();
        return Err(fail(format!(
            "recipe `{}` has no auth profile `{name}`; its profiles are {}",
            recipe.name,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    let AuthKind::OAuth2(oauth2) = &profile.kind else {
        return Err(fail(format!(
            "auth profile `{name}` is not an `oauth2` profile: there is nothing to sign in to"
        )));
    };
    let ctx = profile_context(&bound.inputs, &bound.secrets[recipe.id]);
    let identity = recipe
        .client_cert
        .as_ref()
        .map(|cert| crate::exec::tls::render(cert, &plan.templates, &ctx, "`defaults.client_cert`"))
        .transpose()
        .map_err(fail)?;
    let mut signing = SignIn {
        profile,
        oauth2,
        config: Config::render(
            profile,
            oauth2,
            &Resolver {
                templates: &plan.templates,
                ctx: &ctx,
                cache: None,
                identity: identity.clone(),
            },
            &plan.redactor,
        )?,
        key: String::new(),
        ctx: ctx.clone(),
        identity,
    };
    signing.config.identity = super::identity_of(profile, &signing.resolver(plan))?;
    signing.key = signing.config.store.clone().ok_or_else(|| {
        fail(format!(
            "auth profile `{name}` has no `store:` key to keep the tokens under"
        ))
    })?;
    Ok(signing)
}

/// Renders profile `name` of the plan's root recipe for a sign-in in a browser.
pub fn target(plan: &Plan, bound: &Bound, name: &str) -> Result<LoginTarget, AuthError> {
    let fail = |message: String| AuthError::new(message);
    let signing = sign_in(plan, bound, name)?;
    let Some(login) = signing
        .oauth2
        .login
        .as_ref()
        .filter(|_| signing.oauth2.grant == Grant::AuthorizationCode)
    else {
        return Err(fail(format!(
            "auth profile `{name}` uses grant `{}`; `whisk auth login` opens a browser for grant `authorization_code`",
            signing.oauth2.grant.name()
        )));
    };
    let profile = signing.profile;
    let resolver = signing.resolver(plan);
    let text = |field: &str, tpl| resolver.text(profile, field, tpl);
    let url_text = text("authorization_url", &login.authorization_url)?;
    crate::urls::check_authorization_url(&url_text)
        .map_err(|message| fail(format!("auth profile `{name}`: {message}")))?;
    let authorization_url = Url::parse(&url_text).map_err(|e| {
        fail(format!(
            "auth profile `{name}`: bad authorization URL `{url_text}`: {e}"
        ))
    })?;
    let redirect_uri = text("redirect_uri", &login.redirect_uri)?;
    Url::parse(&redirect_uri).map_err(|e| {
        fail(format!(
            "auth profile `{name}`: `{redirect_uri}` is not a valid redirect URI: {e}"
        ))
    })?;
    let params = login
        .params
        .iter()
        .map(|(k, t)| Ok((k.clone(), text("authorization_params", t)?)))
        .collect::<Result<_, AuthError>>()?;
    drop(resolver);
    Ok(LoginTarget {
        config: signing.config,
        authorization_url,
        redirect_uri,
        params,
        pkce: login.pkce,
        key: signing.key,
    })
}

/// Exchanges an authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub async fn exchange(
    client: &crate::exec::Client,
    target: &LoginTarget,
    code: &str,
    verifier: Option<&str>,
    redactor: &crate::redact::Redactor,
) -> Result<TokenAnswer, AuthError> {
    redactor.add(code);
    let mut fields = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.to_string()),
        ("redirect_uri", target.redirect_uri.clone()),
    ];
    if let Some(verifier) = verifier {
        fields.push(("code_verifier", verifier.to_string()));
    }
    token::request(
        client,
        &target.config,
        fields,
        redactor,
        &crate::event::NullSink,
    )
    .await
}

/// Stores the tokens of a sign-in under the target's key, replacing what was there.
pub async fn save(
    store: &TokenStore,
    config: &Config,
    key: &str,
    answer: &TokenAnswer,
    obtained_by: Grant,
) -> Result<(), AuthError> {
    let fail = |e: crate::store::StoreError| {
        AuthError::new(format!("auth profile `{}`: {e}", config.profile))
    };
    let _lock = store.lock(key).await.map_err(fail)?;
    let now = unix_now();
    let record = Record {
        version: VERSION,
        token_url: config.token_url.to_string(),
        client_id: config.client_id.clone(),
        obtained_by: obtained_by.name().to_string(),
        access_token: Some(answer.access_token.clone()),
        expires_at: answer.expires_in.map(|d| now + d.as_secs()),
        expires_at_ms: answer
            .expires_in
            .map(|d| unix_now_ms().saturating_add(d.as_millis() as u64)),
        lifetime: answer.expires_in.map(|d| d.as_secs()),
        lifetime_ms: answer.expires_in.map(|d| d.as_millis() as u64),
        refresh_token: answer.refresh_token.clone(),
        seed_sha256: None,
        updated_at: now,
    };
    store.write(key, &record).await.map_err(fail)
}
