//! The target of a `Link` header (RFC 8288) with a given relation: `<https://x/?page=2>;
//! rel="next"`. Written here rather than taken from a crate: the one on crates.io deletes every
//! `<`, `>`, `"` and space and then splits on `,` and `;`, so a URL with a comma, a quoted
//! title with a semicolon or `rel="next last"` comes out wrong.

use reqwest::Url;

/// The first link among `values` (each a `Link` field; several fields form one list) whose
/// `rel` names `rel` (case-insensitively), resolved against `base` (the URL the page came from,
/// after redirects). Links with an `anchor` are about another resource and are skipped.
pub fn target<'a>(values: impl IntoIterator<Item = &'a str>, base: &Url, rel: &str) -> Option<Url> {
    for value in values {
        let mut rest = value;
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            let Some(after) = rest.strip_prefix('<') else {
                break;
            };
            let Some(end) = after.find('>') else {
                break;
            };
            let uri = &after[..end];
            rest = &after[end + 1..];
            let (mut rels, mut anchored) = (None, false);
            while let Some(param) = rest.trim_start_matches([' ', '\t']).strip_prefix(';') {
                let (name, value, tail) = parameter(param);
                match name.to_ascii_lowercase().as_str() {
                    // Only the first `rel` of a link counts (§3.3).
                    "rel" if rels.is_none() => rels = Some(value),
                    "anchor" => anchored = true,
                    _ => {}
                }
                rest = tail;
            }
            let named = rels.is_some_and(|r| {
                r.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case(rel))
            });
            if named && !anchored {
                return base.join(uri).ok();
            }
            // Skip to the next link-value: past anything up to the next comma outside quotes.
            rest = skip_to_comma(rest);
        }
    }
    None
}

/// One `name[=value]` parameter after its `;`: the name, the value (unquoted, unescaped) and
/// the text after it.
fn parameter(text: &str) -> (&str, String, &str) {
    let text = text.trim_start_matches([' ', '\t']);
    let name_end = text
        .find(|c: char| c == '=' || c == ';' || c == ',' || c.is_ascii_whitespace())
        .unwrap_or(text.len());
    let name = &text[..name_end];
    let rest = text[name_end..].trim_start_matches([' ', '\t']);
    let Some(rest) = rest.strip_prefix('=') else {
        return (name, String::new(), rest);
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (name, value, &quoted[i + 1..]),
                c => value.push(c),
            }
        }
        (name, value, "")
    } else {
        let end = rest
            .find(|c: char| c == ';' || c == ',' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        (name, rest[..end].to_owned(), &rest[end..])
    }
}

/// The text from the next comma that is not inside a quoted string.
fn skip_to_comma(text: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => return &text[i..],
            _ => {}
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(values: &[&str]) -> Option<String> {
        let base = Url::parse("https://api.example.com/v1/apps?page=1").unwrap();
        target(values.iter().copied(), &base, "next").map(|u| u.to_string())
    }

    #[test]
    fn finds_the_relation_among_several_links_and_fields() {
        assert_eq!(
            next(&[
                r#"<https://api.example.com/v1/apps?page=1>; rel="prev", <https://api.example.com/v1/apps?page=3>; rel="next""#
            ]),
            Some("https://api.example.com/v1/apps?page=3".into())
        );
        assert_eq!(
            next(&[
                r#"</v1/apps?page=0>; rel=first"#,
                r#"</v1/apps?page=2>; rel=next"#
            ]),
            Some("https://api.example.com/v1/apps?page=2".into()),
            "a second field, and a relative reference"
        );
        assert_eq!(next(&[r#"<https://x/last>; rel="last""#]), None);
        assert_eq!(next(&[]), None);
    }

    #[test]
    fn commas_semicolons_and_quotes_do_not_break_it() {
        assert_eq!(
            next(&[r#"<https://x/a?ids=1,2;3>; title="a, b; c \"d\""; rel="next""#]),
            Some("https://x/a?ids=1,2;3".into())
        );
        assert_eq!(
            next(&[r#"<https://x/p2>; rel="last next""#]),
            Some("https://x/p2".into()),
            "one of several relations"
        );
        assert_eq!(
            next(&[
                r#"<https://x/p1>; title="rel=next, <https://x/bad>"; rel=prev, <https://x/p2>; REL=NEXT"#
            ]),
            Some("https://x/p2".into())
        );
    }

    #[test]
    fn anchored_links_and_second_rels_do_not_count() {
        assert_eq!(
            next(&[r##"<https://x/other>; rel=next; anchor="#c""##]),
            None
        );
        assert_eq!(next(&[r#"<https://x/p2>; rel=prev; rel=next"#]), None);
    }
}
