//! The forms a secret takes on the way out, each masked like the secret itself: as written,
//! upper- and lower-cased, reversed; base64 (standard and URL-safe, with and without padding);
//! percent-encoded with every encode set of the URL standard (path, path segment, query,
//! special query, userinfo, fragment, component), minijinja's `urlencode`, `NON_ALPHANUMERIC`
//! (in upper- and lower-case hex) and `application/x-www-form-urlencoded`; and JSON-escaped as
//! serde_json writes it and as `tojson` does (`<`, `>`, `&`, `'` and non-ASCII as `\u` escapes).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

/// The URL standard's encode sets (https://url.spec.whatwg.org/#percent-encoded-bytes).
const FRAGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`');
const QUERY: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');
const SPECIAL_QUERY: &AsciiSet = &QUERY.add(b'\'');
const PATH: &AsciiSet = &QUERY.add(b'?').add(b'`').add(b'{').add(b'}');
const PATH_SEGMENT: &AsciiSet = &PATH.add(b'/').add(b'%');
const USERINFO: &AsciiSet = &PATH
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'=')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'|');
const COMPONENT: &AsciiSet = &USERINFO.add(b'$').add(b'%').add(b'&').add(b'+').add(b',');
/// minijinja's `urlencode` of a string.
const MINIJINJA: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .add(b' ');

/// Every form of `secret` worth masking, without duplicates.
pub fn forms(secret: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |form: String| {
        if !form.is_empty() && !out.contains(&form) {
            out.push(form);
        }
    };
    let reversed: String = secret.chars().rev().collect();
    for text in [
        secret.to_string(),
        secret.to_uppercase(),
        secret.to_lowercase(),
        reversed,
    ] {
        for set in [
            NON_ALPHANUMERIC,
            MINIJINJA,
            COMPONENT,
            USERINFO,
            PATH_SEGMENT,
            PATH,
            SPECIAL_QUERY,
            QUERY,
            FRAGMENT,
        ] {
            push(utf8_percent_encode(&text, set).to_string());
        }
        push(lower_hex(
            &utf8_percent_encode(&text, NON_ALPHANUMERIC).to_string(),
        ));
        push(form_urlencoded(&text));
        for json in json_forms(&text) {
            push(json);
        }
        push(text);
    }
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        push(engine.encode(secret));
    }
    out
}

/// `text` inside a JSON string: as serde_json escapes it, and with `<`, `>`, `&`, `'` and
/// every non-ASCII character as a `\u` escape (lower- and upper-case hex).
fn json_forms(text: &str) -> Vec<String> {
    let plain = serde_json::to_string(text).unwrap_or_default();
    let plain = plain[1..plain.len().saturating_sub(1).max(1)].to_string();
    let mut escaped = String::new();
    for c in plain.chars() {
        match c {
            '<' | '>' | '&' | '\'' => escaped.push_str(&format!("\\u{:04x}", c as u32)),
            c if !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    escaped.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => escaped.push(c),
        }
    }
    let upper = upper_hex_escapes(&escaped);
    // `tojson` leaves non-ASCII as it is: only `<`, `>`, `&`, `'` escaped.
    let html: String = plain
        .chars()
        .map(|c| match c {
            '<' | '>' | '&' | '\'' => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect();
    let mut all = vec![plain, escaped, upper, html];
    // Each again inside a JSON string (a `tojson` result in a JSON body).
    let again: Vec<String> = all
        .iter()
        .map(|form| {
            let json = serde_json::to_string(form).unwrap_or_default();
            json[1..json.len().saturating_sub(1).max(1)].to_string()
        })
        .collect();
    all.extend(again);
    all
}

/// `\u00e4` → `\u00E4`.
fn upper_hex_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\\u") {
        out.push_str(&rest[..at + 2]);
        let hex: String = rest[at + 2..].chars().take(4).collect();
        out.push_str(&hex.to_uppercase());
        rest = &rest[at + 2 + hex.len()..];
    }
    out.push_str(rest);
    out
}

/// `%2F` → `%2f`.
fn lower_hex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = chars.next() {
                    out.push(h.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

/// `application/x-www-form-urlencoded`: space as `+`, `*-._` kept.
pub fn form_urlencoded(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_the_issue_names_is_there() {
        let all = forms("Ab3+Xy/9Qzk7Lm2Pq==");
        for form in [
            "Ab3%2BXy/9Qzk7Lm2Pq%3D%3D",   // minijinja urlencode
            "Ab3+Xy/9Qzk7Lm2Pq==",         // the URL path and query sets leave it
            "Ab3%2BXy%2F9Qzk7Lm2Pq%3D%3D", // component
            "Ab3%2bXy%2f9Qzk7Lm2Pq%3d%3d", // lower-case hex
            "AB3+XY/9QZK7LM2PQ==",
            "ab3+xy/9qzk7lm2pq==",
            "==qP2mL7kzQ9/yX+3bA",
        ] {
            assert!(all.iter().any(|f| f == form), "{form} missing");
        }
        let all = forms("Zq9-x/L mP+&=<b>");
        for form in [
            "Zq9-x/L%20mP+&=%3Cb%3E",
            "Zq9-x%2FL+mP%2B%26%3D%3Cb%3E",
            "Zq9-x/L mP+\\u0026=\\u003cb\\u003e",
        ] {
            assert!(all.iter().any(|f| f == form), "{form} missing: {all:?}");
        }
        let all = forms("pässwörd\"");
        assert!(
            all.iter().any(|f| f == "p\\u00e4ssw\\u00f6rd\\\""),
            "{all:?}"
        );
        assert!(
            all.iter().any(|f| f == "p\\u00E4ssw\\u00F6rd\\\""),
            "{all:?}"
        );
    }
}
