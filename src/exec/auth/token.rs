//! Token endpoint requests and answers (RFC 6749 §4.1.3, §4.4, §6, §5.1, §5.2), with client
//! authentication per §2.3.1.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use super::config::Config;
use crate::event::{Event, EventSink, excerpt as preview};
use crate::recipe::ClientAuth;
use crate::redact::Redactor;

const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Authentication failed: the message names the token URL and the provider's error code.
#[derive(Clone, Debug)]
pub struct AuthError {
    pub message: String,
    /// The token endpoint's RFC 6749 §5.2 `error` code, when it refused with one.
    pub code: Option<String>,
}

impl AuthError {
    pub fn new(message: impl Into<String>) -> AuthError {
        AuthError {
            message: message.into(),
            code: None,
        }
    }
}

/// A successful token answer.
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: Option<Duration>,
    pub refresh_token: Option<String>,
}

/// Sends one token request with `fields` (grant_type and the grant's own fields), and tells
/// `sink` what came back (`Event::TokenResponse`) once the tokens in it are known secrets.
pub async fn request(
    client: &crate::exec::Client,
    config: &Config,
    fields: Vec<(&str, String)>,
    redactor: &Redactor,
    sink: &dyn EventSink,
) -> Result<TokenAnswer, AuthError> {
    let started = std::time::Instant::now();
    let grant = fields
        .iter()
        .find(|(name, _)| *name == "grant_type")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let mut answer = None;
    let result = send(client, config, fields, redactor, &mut answer).await;
    let (status, body) = answer.unzip();
    sink.emit(&Event::TokenResponse {
        profile: config.profile.clone(),
        url: config.token_url.to_string(),
        grant,
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        body_preview: body
            .as_deref()
            .map(|body| crate::event::preview(body, &redactor.masker()))
            .unwrap_or_default(),
    });
    result
}

/// The request itself; `answer` gets the status and body of whatever came back.
async fn send(
    client: &crate::exec::Client,
    config: &Config,
    fields: Vec<(&str, String)>,
    redactor: &Redactor,
    answer: &mut Option<(u16, bytes::Bytes)>,
) -> Result<TokenAnswer, AuthError> {
    let TokenForm { grant, form, basic } = form(config, fields, Sign::Now(redactor))?;
    let url = &config.token_url;
    let mut sent = reqwest::Request::new(reqwest::Method::POST, url.clone());
    *sent.timeout_mut() = Some(TOKEN_TIMEOUT);
    let headers = sent.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    if let Some((id, secret)) = basic {
        let encoded = STANDARD.encode(format!("{id}:{secret}"));
        redactor.add_derived(&encoded);
        let value = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| AuthError::new(format!(
                "cannot build the request to the token endpoint {url}: the client credentials hold characters a header cannot carry"
            )))?;
        headers.insert(AUTHORIZATION, value);
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    *sent.body_mut() = Some(body.into());
    let response = client
        .execute(sent, config.identity.clone())
        .await
        .map_err(|e| {
            AuthError::new(if e.is_timeout() {
                format!(
                    "the token endpoint {url} did not answer within {}s",
                    TOKEN_TIMEOUT.as_secs()
                )
            } else {
                format!("cannot reach the token endpoint {url}: {}", e.describe())
            })
        })?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| {
        AuthError::new(format!(
            "the token endpoint {url} broke off its answer: {e}"
        ))
    })?;
    *answer = Some((status.as_u16(), body.clone()));
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    if !status.is_success() {
        return Err(refusal(
            url,
            &grant,
            status.as_u16(),
            json.as_ref(),
            &body,
            &redactor.masker(),
        ));
    }
    let Some(json) = json else {
        return Err(AuthError::new(format!(
            "the token endpoint {url} answered {status} with a body that is not JSON: `{}`",
            preview(&body, &redactor.masker())
        )));
    };
    let Some(access_token) = json.get("access_token").and_then(|v| v.as_str()) else {
        return Err(refusal(
            url,
            &grant,
            status.as_u16(),
            Some(&json),
            &body,
            &redactor.masker(),
        ));
    };
    redactor.add(access_token);
    let refresh_token = json
        .get("refresh_token")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    if let Some(refresh_token) = &refresh_token {
        redactor.add(refresh_token);
    }
    if let Some(id_token) = json.get("id_token").and_then(|v| v.as_str()) {
        redactor.add(id_token);
    }
    let expires_in = json.get("expires_in").and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    Ok(TokenAnswer {
        access_token: access_token.to_string(),
        expires_in: expires_in
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(Duration::from_secs_f64),
        refresh_token,
    })
}

/// What a token request sends: its form fields, and the Basic credential pair (each half
/// already form-encoded per §2.3.1) when the client authenticates with a header.
pub struct TokenForm {
    pub grant: String,
    pub form: Vec<(String, String)>,
    pub basic: Option<(String, String)>,
}

/// Whether assertions are signed now (a request is about to go; each is registered as a
/// secret), or shown as this placeholder (a dry run).
#[derive(Clone, Copy)]
pub enum Sign<'a> {
    Now(&'a Redactor),
    Shown(&'a str),
}

impl Sign<'_> {
    /// The assertion to send, signed or shown.
    pub fn assertion(
        self,
        config: &Config,
        assertion: &super::jwt::Assertion,
    ) -> Result<String, AuthError> {
        match self {
            Sign::Shown(placeholder) => Ok(placeholder.to_string()),
            Sign::Now(redactor) => {
                let jwt = assertion.sign().map_err(|why| {
                    AuthError::new(format!("auth profile `{}`: {why}", config.profile))
                })?;
                redactor.add(&jwt);
                Ok(jwt)
            }
        }
    }
}

/// The form fields of the profile's own grant (`client_credentials`, `jwt_bearer`).
pub fn own_grant(
    config: &Config,
    sign: Sign<'_>,
) -> Result<Vec<(&'static str, String)>, AuthError> {
    let mut fields = vec![("grant_type", config.grant.grant_type().to_string())];
    if let Some(assertion) = &config.assertion {
        fields.push(("assertion", sign.assertion(config, assertion)?));
    }
    Ok(fields)
}

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The form of a token request with `fields` (grant_type and the grant's own fields), with the
/// scope, extra parameters and client authentication the profile asks for.
pub fn form(
    config: &Config,
    fields: Vec<(&str, String)>,
    sign: Sign<'_>,
) -> Result<TokenForm, AuthError> {
    let grant = fields
        .iter()
        .find(|(k, _)| *k == "grant_type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut form: Vec<(String, String)> = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let with_scope = match grant.as_str() {
        "client_credentials" | "urn:ietf:params:oauth:grant-type:jwt-bearer" => true,
        "refresh_token" => config.scope_on_refresh(),
        // The scope of a code was asked for in the authorization request.
        _ => false,
    };
    if let (true, Some(scope)) = (with_scope, &config.scope) {
        form.push(("scope".into(), scope.clone()));
    }
    form.extend(config.params.iter().cloned());
    let mut basic = None;
    match (config.client_auth, &config.client_secret) {
        (ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt, _) => {
            if let Some(assertion) = &config.client_assertion {
                form.push(("client_id".into(), config.client_id.clone()));
                form.push(("client_assertion_type".into(), CLIENT_ASSERTION_TYPE.into()));
                form.push((
                    "client_assertion".into(),
                    sign.assertion(config, assertion)?,
                ));
            }
        }
        (ClientAuth::Basic, Some(secret)) => {
            basic = Some((form_encode(&config.client_id), form_encode(secret)));
        }
        (_, secret) => {
            form.push(("client_id".into(), config.client_id.clone()));
            if let Some(secret) = secret {
                form.push(("client_secret".into(), secret.clone()));
            }
        }
    }
    Ok(TokenForm { grant, form, basic })
}

/// An RFC 6749 §5.2 error answer (or an error page) as a message.
fn refusal(
    url: &reqwest::Url,
    grant: &str,
    status: u16,
    json: Option<&serde_json::Value>,
    body: &[u8],
    masker: &crate::redact::Masker,
) -> AuthError {
    let code = json
        .and_then(|j| j.get("error"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let description = json
        .and_then(|j| j.get("error_description"))
        .and_then(|v| v.as_str());
    let message = match (&code, description) {
        (Some(code), Some(description)) => format!(
            "the token endpoint {url} refused the `{grant}` grant with {status} `{code}`: {description}"
        ),
        (Some(code), None) => {
            format!("the token endpoint {url} refused the `{grant}` grant with {status} `{code}`")
        }
        _ if json.is_some() => format!(
            "the token endpoint {url} answered {status} without an access token: `{}`",
            preview(body, masker)
        ),
        _ => format!(
            "the token endpoint {url} refused the `{grant}` grant with {status} and a non-JSON body: `{}`",
            preview(body, masker)
        ),
    };
    AuthError { message, code }
}

/// `application/x-www-form-urlencoded` encoding, as RFC 6749 §2.3.1 asks for client
/// credentials in a Basic header.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
