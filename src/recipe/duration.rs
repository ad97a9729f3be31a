//! Durations written the way people say them: `500ms`, `30s`, `2m`, `1h`, `1m30s`.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration from the recipe, kept with the text it was written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    pub fn parse(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(
                "expected a duration such as `500ms`, `30s` or `2m`, found an empty string".into(),
            );
        }
        let mut total = std::time::Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(format!(
                    "expected a duration such as `500ms`, `30s` or `2m`, found `{text}`"
                ));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| format!("the number in duration `{text}` is too large"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let part = match unit {
                "ms" => std::time::Duration::from_millis(number),
                "s" => std::time::Duration::from_secs(number),
                "m" => std::time::Duration::from_secs(number.saturating_mul(60)),
                "h" => std::time::Duration::from_secs(number.saturating_mul(3600)),
                "" => {
                    return Err(format!(
                        "duration `{text}` needs a unit: write `{number}s` or `{number}ms`"
                    ));
                }
                other => {
                    return Err(format!(
                        "unknown unit `{other}` in duration `{text}`: use `ms`, `s`, `m` or `h`"
                    ));
                }
            };
            total = total.saturating_add(part);
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The largest unit that says it exactly, as a recipe would write it.
        let ms = self.0.as_millis();
        if !ms.is_multiple_of(1000) {
            write!(f, "{ms}ms")
        } else if ms >= 3_600_000 && ms.is_multiple_of(3_600_000) {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms >= 60_000 && ms.is_multiple_of(60_000) {
            write!(f, "{}m", ms / 60_000)
        } else {
            write!(f, "{}s", ms / 1000)
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl serde::de::Visitor<'_> for DurationVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as `500ms`, `30s` or `2m`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "duration `{v}` needs a unit: write `{v}s` or `{v}ms`"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "duration `{v}` needs a unit: write `{v}s` or `{v}ms`"
                )))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h))+$",
            "description": "A duration: a number and a unit (`ms`, `s`, `m`, `h`), e.g. `500ms`, `30s`, `2m`, `1m30s`.",
            "examples": ["500ms", "30s", "2m"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as Std;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(Duration::parse("500ms").unwrap().0, Std::from_millis(500));
        assert_eq!(Duration::parse("30s").unwrap().0, Std::from_secs(30));
        assert_eq!(Duration::parse("2m").unwrap().0, Std::from_secs(120));
        assert_eq!(Duration::parse("1h").unwrap().0, Std::from_secs(3600));
        assert_eq!(Duration::parse("1m30s").unwrap().0, Std::from_secs(90));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(Duration::parse("30").unwrap_err().contains("needs a unit"));
        assert!(
            Duration::parse("3d")
                .unwrap_err()
                .contains("unknown unit `d`")
        );
        assert!(Duration::parse("ms").is_err());
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("99999999999999999999s").is_err());
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Duration::parse("1500ms").unwrap().to_string(), "1500ms");
        assert_eq!(Duration::parse("2m").unwrap().to_string(), "2m");
        assert_eq!(Duration::parse("90s").unwrap().to_string(), "90s");
        assert_eq!(Duration::parse("7200s").unwrap().to_string(), "2h");
        assert_eq!(Duration::parse("30s").unwrap().to_string(), "30s");
    }
}
