//! Request parameters as sent: every `name=value` pair of a query or form body, in order,
//! duplicates kept, so that handlers can tell a repeated parameter from a single one.

/// The decoded pairs of an `application/x-www-form-urlencoded` string.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes `a=1&b=x+y&c=%2F`; a pair without `=` has an empty value.
    pub(crate) fn parse(raw: &str) -> Self {
        let pairs = raw
            .split('&')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (name, value) = part.split_once('=').unwrap_or((part, ""));
                (decode(name), decode(value))
            })
            .collect();
        Self { pairs }
    }

    /// The pairs of both sources, query first.
    pub(crate) fn merged(mut self, other: Self) -> Self {
        self.pairs.extend(other.pairs);
        self
    }

    /// The first value of `name`, when it is present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Names given more than once, in order of first appearance.
    pub(crate) fn duplicated(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, (name, _)) in self.pairs.iter().enumerate() {
            let again = self.pairs[i + 1..].iter().any(|(n, _)| n == name);
            if again && !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }

    /// Names not in `allowed`, in order of first appearance.
    pub(crate) fn unsupported(&self, allowed: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, _) in &self.pairs {
            if !allowed.contains(&name.as_str()) && !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }

    /// Names of `required` that are missing or empty.
    pub(crate) fn absent(&self, required: &[&str]) -> Vec<String> {
        required
            .iter()
            .filter(|name| self.get(name).is_none())
            .map(|name| (*name).to_owned())
            .collect()
    }
}

/// Form decoding: `+` is a space, `%XX` a byte; a malformed escape stays as written.
fn decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(&h), Some(&l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                    out.push(hex(h) * 16 + hex(l));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit.saturating_sub(b'A').saturating_add(10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_bare_names() {
        let p = Params::parse("a=x+y&b=%2Fp%3a&c&d=%zz&e=caf%C3%A9");
        assert_eq!(p.get("a"), Some("x y"));
        assert_eq!(p.get("b"), Some("/p:"));
        assert_eq!(p.get("c"), None);
        assert_eq!(p.absent(&["c"]), ["c"]);
        assert_eq!(p.get("d"), Some("%zz"));
        assert_eq!(p.get("e"), Some("café"));
    }

    #[test]
    fn finds_duplicates_unsupported_and_absent() {
        let p = Params::parse("a=1&b=2&a=3&z=0&b=").merged(Params::parse("q=1"));
        assert_eq!(p.duplicated(), ["a", "b"]);
        assert_eq!(p.unsupported(&["a", "b"]), ["z", "q"]);
        assert_eq!(p.absent(&["a", "c", "z"]), ["c"]);
        assert_eq!(p.get("a"), Some("1"));
    }
}
