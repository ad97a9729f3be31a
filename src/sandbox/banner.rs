//! The text `whisk sandbox` prints: base URLs, per-platform endpoints and demo credentials.

use std::fmt::Write as _;

use super::data::SandboxData;
use super::urls::{Credentials, SandboxUrls};

type Section = (&'static str, Vec<(&'static str, String)>);

pub(crate) fn render(urls: &SandboxUrls, creds: &Credentials, data: &SandboxData) -> String {
    let mut out = format!(
        "whisk sandbox on {} (Oracle runtime host {})\n",
        urls.base, urls.oracle_runtime_base
    );
    for (title, lines) in sections(urls, creds, data) {
        let _ = writeln!(out, "\n{title}");
        for (label, value) in lines {
            let _ = writeln!(out, "  {label:<16}{value}");
        }
    }
    out
}

fn sections(urls: &SandboxUrls, creds: &Credentials, data: &SandboxData) -> Vec<Section> {
    let tibco = &creds.tibco;
    let others: Vec<&str> = data
        .tibco
        .organizations
        .iter()
        .filter(|o| o.parent.is_none() && o.locator != tibco.organization)
        .map(|o| o.locator.as_str())
        .collect();
    vec![
        (
            "TIBCO Cloud Integration",
            vec![
                ("api base", urls.tci_base.clone()),
                ("token url", urls.tci_token_url.clone()),
                ("client id", tibco.client_id.clone()),
                ("client secret", tibco.client_secret.clone()),
                (
                    "refresh token",
                    format!("{} (single use: rotates)", tibco.refresh_token),
                ),
                ("scope", tibco.scope.clone()),
                (
                    "organization",
                    format!("{} (also locator 0)", tibco.organization),
                ),
                ("children", tibco.children.join(",")),
                ("other families", others.join(",")),
            ],
        ),
        (
            "IBM Connections Cloud",
            vec![
                ("authorize url", urls.ibm_authorize_url.clone()),
                ("token url", urls.ibm_token_url.clone()),
                ("user identity", urls.ibm_user_identity_url.clone()),
                ("client id", creds.ibm.client_id.clone()),
                ("client secret", creds.ibm.client_secret.clone()),
                (
                    "redirect uri",
                    format!("{} (any port on loopback)", creds.ibm.redirect_uri),
                ),
            ],
        ),
        (
            "Oracle Integration",
            vec![
                ("token url", urls.oracle_token_url.clone()),
                ("design-time url", urls.oracle_design_time_base.clone()),
                ("runtime url", urls.oracle_runtime_base.clone()),
                ("client id", creds.oracle.client_id.clone()),
                ("client secret", creds.oracle.client_secret.clone()),
                ("scope", creds.oracle.scope.clone()),
            ],
        ),
        ("Sandbox", vec![("stats", urls.stats_url.clone())]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names_every_url_and_credential() {
        let data = SandboxData::default();
        let urls = SandboxUrls::new("http://127.0.0.1:1", "http://127.0.0.1:2");
        let text = render(&urls, &Credentials::new(&data), &data);
        for needle in [
            "http://127.0.0.1:1/tci",
            "http://127.0.0.1:1/idm/v1/oauth2/token",
            "http://127.0.0.1:1/manage/oauth2/authorize",
            "http://127.0.0.1:2",
            "whisk-demo-client",
            "whisk-demo-secret",
            "whisk-demo-refresh-token",
            "whisk-ibm-secret",
            "whisk-oracle-secret",
            "101,102,",
            "other families  200",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
    }
}
