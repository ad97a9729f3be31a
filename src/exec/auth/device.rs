//! The device authorization grant (RFC 8628), the token side of `whisk auth login --device`:
//! ask the device authorization endpoint for a user code (§3.1, §3.2), then poll the token
//! endpoint every `interval` (§3.4, §3.5) — slower after `slow_down`, until the person
//! approved, refused, or the code expired.

use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use super::login::SignIn;
use super::token::{self, AuthError, Sign, TokenAnswer};
use crate::plan::Plan;
use crate::redact::Redactor;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: the interval when the server names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// §3.5: how much longer to wait after `slow_down`.
const SLOW_DOWN: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the device authorization endpoint answered.
#[derive(Debug)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// The device authorization endpoint of a signing-in profile.
pub fn endpoint(plan: &Plan, signing: &SignIn<'_>) -> Result<Url, AuthError> {
    let name = &signing.profile.name;
    let Some(tpl) = &signing.oauth2.device_authorization_url else {
        return Err(AuthError::new(format!(
            "auth profile `{name}` has no `device_authorization_url`: add the provider's device authorization endpoint to sign in with `--device`"
        )));
    };
    let text = plan.templates.text(tpl, signing.context()).map_err(|e| {
        AuthError::new(format!(
            "auth profile `{name}`: cannot render `device_authorization_url`: {e}"
        ))
    })?;
    crate::urls::check_authorization_url(&text)
        .map_err(|message| AuthError::new(format!("auth profile `{name}`: {message}")))?;
    Url::parse(&text).map_err(|e| {
        AuthError::new(format!(
            "auth profile `{name}`: bad device authorization URL `{text}`: {e}"
        ))
    })
}

/// Asks for a device code and a user code (§3.1): the client id, the scope and the profile's
/// `params`, with the client authentication of its token requests.
pub async fn authorize(
    client: &crate::exec::Client,
    signing: &SignIn<'_>,
    url: &Url,
    redactor: &Redactor,
) -> Result<DeviceCode, AuthError> {
    let config = &signing.config;
    let mut fields = Vec::new();
    if let Some(scope) = &config.scope {
        fields.push(("scope", scope.clone()));
    }
    let form = token::form(config, fields, Sign::Now(redactor))?;
    let mut request = reqwest::Request::new(reqwest::Method::POST, url.clone());
    *request.timeout_mut() = Some(REQUEST_TIMEOUT);
    let headers = request.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    if let Some((id, secret)) = &form.basic {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        redactor.add_derived(&encoded);
        if let Ok(value) = HeaderValue::from_str(&format!("Basic {encoded}")) {
            headers.insert(AUTHORIZATION, value);
        }
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form.form)
        .finish();
    *request.body_mut() = Some(body.into());
    let response = client
        .execute(request, config.identity.clone())
        .await
        .map_err(|e| {
            AuthError::new(format!(
                "cannot reach the device authorization endpoint {url}: {}",
                e.describe()
            ))
        })?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| {
        AuthError::new(format!(
            "the device authorization endpoint {url} broke off its answer: {e}"
        ))
    })?;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let text = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let seconds = |name: &str| {
        json.get(name)
            .and_then(|v| v.as_u64())
            .map(Duration::from_secs)
    };
    if !status.is_success() {
        let code = text("error").unwrap_or_else(|| status.to_string());
        let description = text("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(AuthError {
            message: format!(
                "the device authorization endpoint {url} refused with {} `{code}`{description}",
                status.as_u16()
            ),
            code: text("error"),
        });
    }
    let (Some(device_code), Some(user_code), Some(verification_uri)) = (
        text("device_code"),
        text("user_code"),
        text("verification_uri"),
    ) else {
        return Err(AuthError::new(format!(
            "the device authorization endpoint {url} answered without `device_code`, `user_code` and `verification_uri`"
        )));
    };
    redactor.add(&device_code);
    Ok(DeviceCode {
        device_code,
        user_code,
        verification_uri,
        verification_uri_complete: text("verification_uri_complete"),
        expires_in: seconds("expires_in").unwrap_or(Duration::from_secs(300)),
        interval: seconds("interval")
            .filter(|i| !i.is_zero())
            .unwrap_or(DEFAULT_INTERVAL),
    })
}

/// Polls the token endpoint until the person approved the code (the tokens), refused it, or
/// it expired; `deadline` caps the wait too.
pub async fn poll(
    client: &crate::exec::Client,
    signing: &SignIn<'_>,
    code: &DeviceCode,
    redactor: &Redactor,
    deadline: Instant,
) -> Result<TokenAnswer, AuthError> {
    let expires = Instant::now() + code.expires_in;
    let mut interval = code.interval;
    loop {
        let wake = Instant::now() + interval;
        if wake >= expires.min(deadline) {
            return Err(AuthError::new(if deadline < expires {
                "nobody approved the sign-in in time: run `whisk auth login --device` again (or give it a longer `--timeout`)".to_string()
            } else {
                "the user code expired before anybody approved it: run `whisk auth login --device` again".to_string()
            }));
        }
        tokio::time::sleep_until(wake.into()).await;
        let fields = vec![
            ("grant_type", GRANT_TYPE.to_string()),
            ("device_code", code.device_code.clone()),
        ];
        let result = token::request(
            client,
            &signing.config,
            fields,
            redactor,
            &crate::event::NullSink,
        )
        .await;
        match result {
            Ok(answer) => return Ok(answer),
            Err(error) => match error.code.as_deref() {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += SLOW_DOWN,
                Some("access_denied") => {
                    return Err(AuthError {
                        message: format!(
                            "the sign-in was refused on the other device: {}",
                            error.message
                        ),
                        code: error.code,
                    });
                }
                Some("expired_token") => {
                    return Err(AuthError {
                        message: format!(
                            "the user code expired before anybody approved it: run `whisk auth login --device` again ({})",
                            error.message
                        ),
                        code: error.code,
                    });
                }
                _ => return Err(error),
            },
        }
    }
}
