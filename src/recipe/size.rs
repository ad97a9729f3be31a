//! Sizes and rates written the way people say them: `16MiB`, `512KiB`; `10/s`, `600/m`.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

/// A number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl Size {
    pub fn parse(text: &str) -> Result<Size, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let number: u64 = text[..split]
            .parse()
            .map_err(|_| format!("expected a size such as `16MiB`, found `{text}`"))?;
        let factor: u64 = match text[split..].trim() {
            "" | "B" => 1,
            "KB" | "kB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown unit `{other}` in size `{text}`: use `B`, `KiB`, `MiB`, `GiB`, `KB`, `MB` or `GB`"
                ));
            }
        };
        number
            .checked_mul(factor)
            .map(Size)
            .ok_or_else(|| format!("size `{text}` is too large"))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl serde::de::Visitor<'_> for SizeVisitor {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as `16MiB`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Size, E> {
                Size::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v))
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size in bytes, or a number with a unit: `512KiB`, `16MiB`, `1GiB`, `10MB`.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^[0-9]+ *(B|KB|kB|MB|GB|KiB|MiB|GiB)?$" }
            ]
        })
    }
}

/// A request rate: `N/s`, `N/m` or `N/h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: std::time::Duration,
}

impl Rate {
    pub fn parse(text: &str) -> Result<Rate, String> {
        let (count, unit) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("expected a rate such as `10/s`, found `{text}`"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("expected a rate such as `10/s`, found `{text}`"))?;
        if count == 0 {
            return Err(format!("rate `{text}` allows no request at all"));
        }
        let per = match unit.trim() {
            "s" => std::time::Duration::from_secs(1),
            "m" => std::time::Duration::from_secs(60),
            "h" => std::time::Duration::from_secs(3600),
            other => {
                return Err(format!(
                    "unknown unit `{other}` in rate `{text}`: use `/s`, `/m` or `/h`"
                ));
            }
        };
        Ok(Rate { count, per })
    }

    /// The spacing between two requests.
    pub fn interval(&self) -> std::time::Duration {
        self.per / self.count
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Rate::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0-9]+/(s|m|h)$",
            "description": "Requests per second, minute or hour: `10/s`, `600/m`.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(Size::parse("16MiB").unwrap().0, 16 << 20);
        assert_eq!(Size::parse("10 MB").unwrap().0, 10_000_000);
        assert_eq!(Size::parse("512").unwrap().0, 512);
        assert!(Size::parse("3 parsecs").is_err());
        assert!(Size::parse("99999999999999GiB").is_err());
    }

    #[test]
    fn rates() {
        let rate = Rate::parse("10/s").unwrap();
        assert_eq!(rate.interval(), std::time::Duration::from_millis(100));
        assert_eq!(
            Rate::parse("600/m").unwrap().interval(),
            std::time::Duration::from_millis(100)
        );
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("10/d").is_err());
        assert!(Rate::parse("ten").is_err());
    }
}
