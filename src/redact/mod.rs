//! Secret masking: the one place every output passes through. The `Redactor` collects every
//! secret value, every token a server returned, and the encoded forms they travel in; a
//! `Masker` (its values at one moment) replaces each with `***`. Writers never mask by hand:
//! results reach them as `Masked` values, and text goes out through `MaskedWrite`.

mod forms;
mod masked;
mod masker;
mod write;

pub use masked::{Mask, Masked};
pub use masker::Masker;
pub use write::MaskedWrite;

use std::sync::{Arc, RwLock};

pub const MASK: &str = "***";

/// The set of sensitive values of one run. Cheap to clone; clones share the set.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    values: Arc<RwLock<Values>>,
}

/// The values, as a snapshot rebuilt when a value is added.
#[derive(Debug, Default)]
struct Values {
    current: Masker,
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret together with the forms it travels in (see `forms`: percent-encoded by
    /// every URL encode set, JSON-escaped, base64, upper- and lower-cased, reversed).
    pub fn add(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        self.add_exact(forms::forms(secret));
    }

    /// Adds values exactly as given (a derived credential such as a Basic header's payload).
    pub fn add_derived(&self, value: &str) {
        if !value.is_empty() {
            self.add_exact(vec![value.to_string()]);
        }
    }

    fn add_exact(&self, forms: Vec<String>) {
        // Filters call this inside renders: a render stopped by its memory budget while
        // holding the lock would hold it for good.
        crate::memory::unbudgeted(|| self.add_exact_now(forms));
    }

    fn add_exact_now(&self, forms: Vec<String>) {
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        let mut list = values.current.list.to_vec();
        let before = list.len();
        for form in forms {
            if !form.is_empty() && !list.contains(&form) {
                list.push(form);
            }
        }
        if list.len() != before {
            values.current = Masker::of(list);
        }
    }

    /// True when `text` contains any sensitive value.
    pub fn touches(&self, text: &str) -> bool {
        let values = self.values.read().unwrap_or_else(|e| e.into_inner());
        values.current.touches(text)
    }

    /// `text` with every sensitive value replaced by `***`.
    pub fn mask<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        crate::memory::unbudgeted(|| {
            let values = self.values.read().unwrap_or_else(|e| e.into_inner());
            values.current.mask(text)
        })
    }

    /// The values known now, for masking a lot of text at once (a report) without taking the
    /// lock each time. Values added later are not in it.
    pub fn masker(&self) -> Masker {
        let values = self.values.read().unwrap_or_else(|e| e.into_inner());
        values.current.clone()
    }

    /// Masks every string (and object key) inside a JSON value.
    pub fn mask_value(&self, value: &mut serde_json::Value) {
        self.masker().mask_value(value);
    }
}

/// Headers whose whole value is a credential: writers show them as `***` whatever the value.
pub fn is_credential_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn masks_secrets_and_their_encodings() {
        let redactor = Redactor::new();
        redactor.add("s3cr3t/+x");
        let b64 = STANDARD.encode("s3cr3t/+x");
        let text = format!("a s3cr3t/+x b {b64} c s3cr3t%2F%2Bx");
        assert_eq!(redactor.mask(&text), "a *** b *** c ***");
    }

    #[test]
    fn masks_inside_json_values_and_keys() {
        let redactor = Redactor::new();
        redactor.add("tok");
        let mut value = serde_json::json!({"a": ["x tok"], "tok": 1});
        redactor.mask_value(&mut value);
        assert_eq!(value, serde_json::json!({"a": ["x ***"], "***": 1}));
    }

    #[test]
    fn longer_values_win() {
        let redactor = Redactor::new();
        redactor.add("abc");
        redactor.add_derived("xxabcxx");
        assert_eq!(redactor.mask("1 xxabcxx 2 abc"), "1 *** 2 ***");
        assert!(redactor.touches("zabc"));
        assert!(!redactor.touches("ab"));
    }
}
