//! The answer of the authorization server, as the redirect carries it (RFC 6749 §4.1.2):
//! parsed from a redirected URL, its query, or a bare code a person pasted.

use reqwest::Url;

/// What came back from the sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// A code, and the `state` the redirect carried (`None`: it carried none).
    Code { code: String, state: Option<String> },
    /// A code pasted on its own: there is no `state` to check.
    BareCode { code: String },
    /// The server refused (RFC 6749 §4.1.2.1): `error`, `error_description`.
    Refused {
        error: String,
        description: Option<String>,
        state: Option<String>,
    },
}

/// Reads the query of a redirect (`code=...&state=...` or `error=...`).
pub fn from_query(query: &str) -> Result<Redirect, String> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let state = get("state");
    if let Some(error) = get("error") {
        return Ok(Redirect::Refused {
            error,
            description: get("error_description"),
            state,
        });
    }
    match get("code") {
        Some(code) if !code.is_empty() => Ok(Redirect::Code { code, state }),
        _ => Err("the redirect has neither `code` nor `error` in its query".into()),
    }
}

/// Reads what a person pasted: the whole redirected URL, its query, or the bare code.
pub fn from_pasted(text: &str) -> Result<Redirect, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("nothing was pasted".into());
    }
    if let Ok(url) = Url::parse(text)
        && url.has_host()
    {
        // Some servers answer in the fragment (`response_mode=fragment`); accept both.
        let query = url
            .query()
            .filter(|q| q.contains("code=") || q.contains("error="))
            .or(url.fragment())
            .unwrap_or_default();
        return from_query(query);
    }
    if let Some(query) = text.strip_prefix('?') {
        return from_query(query);
    }
    if text.contains("code=") || text.contains("error=") {
        return from_query(text);
    }
    if text.chars().any(char::is_whitespace) {
        return Err("expected the redirected URL or the code, found text with spaces".into());
    }
    Ok(Redirect::BareCode {
        code: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(code: &str, state: Option<&str>) -> Redirect {
        Redirect::Code {
            code: code.into(),
            state: state.map(str::to_string),
        }
    }

    #[test]
    fn urls_queries_and_bare_codes() {
        let url = "http://127.0.0.1:8765/callback?code=ab%2Fc&state=s1&iss=http%3A%2F%2Fidp";
        assert_eq!(from_pasted(url), Ok(code("ab/c", Some("s1"))));
        assert_eq!(
            from_pasted("  ?code=x&state=y \n"),
            Ok(code("x", Some("y")))
        );
        assert_eq!(from_pasted("code=x"), Ok(code("x", None)));
        assert_eq!(
            from_pasted("ibm-code-123\n"),
            Ok(Redirect::BareCode {
                code: "ibm-code-123".into()
            })
        );
        assert_eq!(
            from_pasted("https://app.example/cb#code=f&state=g"),
            Ok(code("f", Some("g")))
        );
        assert!(from_pasted("").is_err());
        assert!(from_pasted("two words").is_err());
        assert!(from_pasted("https://app.example/cb?x=1").is_err());
    }

    #[test]
    fn refusals_keep_their_code_and_description() {
        assert_eq!(
            from_query("error=access_denied&error_description=the+user+said+no&state=s"),
            Ok(Redirect::Refused {
                error: "access_denied".into(),
                description: Some("the user said no".into()),
                state: Some("s".into()),
            })
        );
    }
}
