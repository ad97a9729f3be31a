//! Shell words: literal text single-quoted, stand-ins (secrets, tokens, unknown values) as
//! double-quoted variable references, so that the printed commands run as they are.

/// A stand-in inside rendered text and the shell expression it is shown as.
pub struct Reference {
    pub sentinel: String,
    pub shell: String,
}

/// `text` as one shell word.
pub fn word(text: &str, references: &[Reference]) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let next = references
            .iter()
            .filter_map(|r| rest.find(&r.sentinel).map(|at| (at, r)))
            .min_by_key(|(at, r)| (*at, std::cmp::Reverse(r.sentinel.len())));
        let Some((at, reference)) = next else {
            if !rest.is_empty() || out.is_empty() {
                out.push_str(&literal(rest));
            }
            return out;
        };
        if at > 0 {
            out.push_str(&literal(&rest[..at]));
        }
        out.push('"');
        out.push_str(&reference.shell);
        out.push('"');
        rest = &rest[at + reference.sentinel.len()..];
    }
}

/// `text` as one shell word, quoted when it needs to be.
pub fn literal(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A command over several lines, one option (with its value) per line.
pub fn command(lines: &[String]) -> String {
    lines.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_literals_and_references() {
        let refs = [
            Reference {
                sentinel: "S1X".into(),
                shell: "$TOKEN".into(),
            },
            Reference {
                sentinel: "S12X".into(),
                shell: "$(cat 'secret file')".into(),
            },
        ];
        assert_eq!(word("plain/path", &refs), "plain/path");
        assert_eq!(word("it's", &refs), r"'it'\''s'");
        assert_eq!(word("Bearer S1X", &refs), r#"'Bearer '"$TOKEN""#);
        assert_eq!(word("S12X", &refs), r#""$(cat 'secret file')""#);
        assert_eq!(word("", &refs), "''");
        assert_eq!(
            command(&["curl -X POST u".into(), "-H a".into()]),
            "curl -X POST u \\\n  -H a"
        );
    }
}
