//! Accepted statuses (`expect.status`): codes and classes such as `2xx`.

use std::fmt;

/// One accepted status or class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accept {
    Code(u16),
    Class(u16),
}

/// The statuses a step accepts. Default: `2xx`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSet(Vec<Accept>);

impl Default for StatusSet {
    fn default() -> StatusSet {
        StatusSet(vec![Accept::Class(2)])
    }
}

impl StatusSet {
    /// Reads `expect.status`: an integer, a class string, or a list of them.
    pub fn parse(value: &serde_json::Value) -> Result<StatusSet, String> {
        let items = match value {
            serde_json::Value::Array(items) if items.is_empty() => {
                return Err("`expect.status` is an empty list: name at least one status".into());
            }
            serde_json::Value::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        };
        items
            .into_iter()
            .map(parse_one)
            .collect::<Result<_, _>>()
            .map(StatusSet)
    }

    pub fn accepts(&self, status: u16) -> bool {
        self.0.iter().any(|accept| match accept {
            Accept::Code(code) => *code == status,
            Accept::Class(class) => status / 100 == *class,
        })
    }
}

fn parse_one(value: &serde_json::Value) -> Result<Accept, String> {
    match value {
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(code @ 100..=599) => Ok(Accept::Code(code as u16)),
            _ => Err(format!(
                "`{n}` is not an HTTP status: use a code from 100 to 599 or a class such as \"2xx\""
            )),
        },
        serde_json::Value::String(text) => {
            let lower = text.trim().to_ascii_lowercase();
            if let Ok(code) = lower.parse::<u16>() {
                return parse_one(&serde_json::Value::from(code));
            }
            match lower.as_bytes() {
                [d @ b'1'..=b'5', b'x', b'x'] => Ok(Accept::Class(u16::from(d - b'0'))),
                _ => Err(format!(
                    "`{text}` is not a status class: use \"1xx\" to \"5xx\" or a code such as 204"
                )),
            }
        }
        other => Err(format!(
            "`{other}` is not a status: use a code such as 200, a class such as \"2xx\", or a list"
        )),
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|a| match a {
                Accept::Code(c) => c.to_string(),
                Accept::Class(c) => format!("{c}xx"),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_classes_and_lists() {
        let set = StatusSet::parse(&json!([200, 204])).unwrap();
        assert!(set.accepts(204) && !set.accepts(201));
        let set = StatusSet::parse(&json!("2xx")).unwrap();
        assert!(set.accepts(299) && !set.accepts(300));
        let set = StatusSet::parse(&json!(["4XX", 500])).unwrap();
        assert!(set.accepts(404) && set.accepts(500) && !set.accepts(200));
        assert_eq!(set.to_string(), "4xx, 500");
        assert!(StatusSet::default().accepts(200));
    }

    #[test]
    fn rejects_nonsense() {
        assert!(StatusSet::parse(&json!(42)).is_err());
        assert!(StatusSet::parse(&json!("2xy")).is_err());
        assert!(StatusSet::parse(&json!([])).is_err());
        assert!(StatusSet::parse(&json!({"a": 1})).is_err());
        assert!(StatusSet::parse(&json!(true)).is_err());
    }
}
