//! URL parsing for request after request to the same origin. A fan-out renders thousands of
//! URLs that differ only in their path (`https://api.example.com/v1/orgs/{{ id }}`); parsing the
//! scheme and host (with its IDNA processing) each time is most of the cost. When a URL starts
//! with exactly the origin of the last one this thread parsed, its path and query are parsed
//! against that origin instead, which the URL standard defines to give the same URL.

use std::cell::RefCell;

use url::{ParseError, Position, Url};

thread_local! {
    /// The last URL with an origin this thread parsed.
    static LAST: RefCell<Option<Url>> = const { RefCell::new(None) };
}

/// `Url::parse(text)`, sped up for repeated origins.
pub fn parse(text: &str) -> Result<Url, ParseError> {
    let reused = LAST.with(|last| {
        let last = last.borrow();
        let base = last.as_ref()?;
        let rest = text.strip_prefix(&base[..Position::BeforePath])?;
        path_absolute(rest).then(|| Url::options().base_url(Some(base)).parse(rest))
    });
    if let Some(url) = reused {
        return url;
    }
    let url = Url::parse(text)?;
    if url.has_host() && text.starts_with(&url[..Position::BeforePath]) {
        LAST.with(|last| *last.borrow_mut() = Some(url.clone()));
    }
    Ok(url)
}

/// A path that starts a path-absolute reference (`/a/b?q`): one slash, not two (which would
/// start an authority), nothing the parser would strip or treat as a slash.
fn path_absolute(rest: &str) -> bool {
    rest.starts_with('/')
        && !matches!(rest.as_bytes().get(1), Some(b'/' | b'\\'))
        && !rest.bytes().any(|b| b <= b' ' || b == b'\\' || b == 0x7f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_what_a_full_parse_gives() {
        let cases = [
            "http://127.0.0.1:18091/tci/v1/subscriptions/1/apiservice/access",
            "http://127.0.0.1:18091/tci/v1/subscriptions/2/apiservice/access",
            "http://127.0.0.1:18091/a/../b/./c?x=1&y=%20#frag",
            "http://127.0.0.1:18091//evil.example/x",
            "http://127.0.0.1:18091/\\evil.example/x",
            "http://127.0.0.1:18091/a b",
            "http://127.0.0.1:18091/a\tb",
            "http://127.0.0.1:18091/caf\u{e9}/\u{1F600}",
            "http://127.0.0.1:18091?q",
            "http://127.0.0.1:180912/x",
            "http://127.0.0.1:18091",
            "https://API.Example.com:443/v1/x",
            "https://api.example.com/v1/x",
            "https://api.example.com/v1/y/%2e%2e/z",
            "https://user:pw@api.example.com/v1/x",
            "https://user:pw@api.example.com/v1/y",
            "mailto:someone@example.com",
            "https://api.example.com/v1/x",
            "not a url",
        ];
        for round in 0..2 {
            for text in cases {
                let fast = parse(text).map(String::from);
                let full = Url::parse(text).map(String::from);
                assert_eq!(fast, full, "round {round}: {text}");
            }
        }
    }
}
