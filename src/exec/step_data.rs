//! `steps.<id>` values: what templates may read about a step's last run — `status`, `headers`,
//! `body`, `duration_ms`; `item` in a loop's `results`; `results`, `succeeded` and `failed` for
//! a loop. They are template objects that keep a response as it came (status, header map,
//! body bytes) and build a field only when a template reads it, so that a fan-out over
//! 10,000 items does not convert 10,000 header maps and bodies nothing reads.

use std::sync::{Arc, OnceLock};

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use reqwest::header::HeaderMap;

use crate::plan::template::to_value;

/// The fields of one `steps.<id>` value, in the order templates enumerate them.
#[derive(Clone, Debug, Default)]
pub struct StepData {
    entries: Vec<(&'static str, Entry)>,
}

#[derive(Clone, Debug)]
enum Entry {
    Ready(Value),
    /// Header names to values (repeated headers joined with `, `), built when read from
    /// `name:value` lines (one allocation, however many headers).
    Headers(bytes::Bytes, OnceLock<Value>),
    /// The parsed JSON body, or its text, built when read.
    Body(bytes::Bytes, OnceLock<Value>),
}

impl StepData {
    pub fn set(&mut self, key: &'static str, value: Value) {
        self.put(key, Entry::Ready(value));
    }

    pub fn set_json(&mut self, key: &'static str, value: &serde_json::Value) {
        self.set(key, to_value(value));
    }

    /// Keeps a copy of `headers`: a parsed response's header values share the connection's
    /// read buffer, which a kept header map would keep alive, one buffer per response.
    pub fn set_headers(&mut self, headers: &HeaderMap) {
        let size = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 2)
            .sum();
        let mut lines = Vec::with_capacity(size);
        for (name, value) in headers {
            // Names hold no `:` and values no newline: the lines split back unambiguously.
            lines.extend_from_slice(name.as_str().as_bytes());
            lines.push(b':');
            lines.extend_from_slice(value.as_bytes());
            lines.push(b'\n');
        }
        self.put("headers", Entry::Headers(lines.into(), OnceLock::new()));
    }

    /// A response's status, headers and body, and how long it took.
    pub fn set_response(&mut self, response: crate::exec::http::Incoming, duration_ms: u64) {
        self.set("status", Value::from(response.status));
        self.set_headers(&response.headers);
        self.set_body(response.body);
        self.set("duration_ms", Value::from(duration_ms));
    }

    pub fn set_body(&mut self, body: Vec<u8>) {
        self.put("body", Entry::Body(body.into(), OnceLock::new()));
    }

    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| *k != key);
    }

    fn put(&mut self, key: &'static str, entry: Entry) {
        if self.entries.capacity() == 0 {
            // status, headers, body, duration_ms and item: one allocation of the right size.
            self.entries.reserve_exact(5);
        }
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = entry,
            None => self.entries.push((key, entry)),
        }
    }

    /// The fields of `value` when it is a `steps.<id>` value (a block takes its last step's).
    pub fn of(value: &Value) -> StepData {
        value
            .downcast_object_ref::<StepData>()
            .cloned()
            .unwrap_or_default()
    }

    pub fn into_value(self) -> Value {
        Value::from_object(self)
    }

    fn field(&self, key: &str) -> Option<Value> {
        let (_, entry) = self.entries.iter().find(|(k, _)| *k == key)?;
        Some(match entry {
            Entry::Ready(value) => value.clone(),
            Entry::Headers(headers, built) => built.get_or_init(|| headers_value(headers)).clone(),
            Entry::Body(body, built) => built.get_or_init(|| body_value(body)).clone(),
        })
    }
}

impl Object for StepData {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.field(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.entries.iter().map(|(k, _)| Value::from(*k)).collect())
    }
}

/// `steps.<id>.results`: each item's `steps.<id>` value, made when a template reads it.
pub fn results(items: Vec<StepData>) -> Value {
    Value::from_object(Results(items))
}

#[derive(Debug)]
struct Results(Vec<StepData>);

impl Object for Results {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let item = self.0.get(key.as_usize()?)?;
        Some(item.clone().into_value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
}

fn headers_value(lines: &[u8]) -> Value {
    let mut map = serde_json::Map::new();
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let at = line.iter().position(|b| *b == b':').unwrap_or(line.len());
        let name = String::from_utf8_lossy(&line[..at]);
        let text = String::from_utf8_lossy(line.get(at + 1..).unwrap_or_default());
        match map.get_mut(name.as_ref()) {
            Some(serde_json::Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&text);
            }
            _ => {
                map.insert(name.into_owned(), text.into_owned().into());
            }
        }
    }
    to_value(&map)
}

/// The body as parsed JSON, or as text when it is not JSON (empty: `""`).
fn body_value(body: &[u8]) -> Value {
    if !body.is_empty()
        && let Ok(json) = serde_json::from_slice::<serde_json::Value>(body)
    {
        return to_value(&json);
    }
    Value::from(String::from_utf8_lossy(body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_read_like_a_list() {
        let items: Vec<StepData> = (0..3)
            .map(|i| {
                let mut data = StepData::default();
                data.set("status", Value::from(200 + i));
                data
            })
            .collect();
        let env = minijinja::Environment::new();
        let text = env
            .render_str(
                "{{ r | length }} {{ r[1].status }} {{ r[-1].status }} {% for x in r %}{{ x.status }},{% endfor %} {{ r | map(attribute='status') | list }} {{ r[5] is defined }}",
                minijinja::context! { r => results(items) },
            )
            .unwrap();
        assert_eq!(text, "3 201 202 200,201,202, [200, 201, 202] False");
    }

    #[test]
    fn fields_are_built_when_read_and_serialize_like_a_map() {
        let mut data = StepData::default();
        data.set("status", Value::from(200));
        let mut headers = HeaderMap::new();
        headers.append("set-cookie", "a=1".parse().unwrap());
        headers.append("set-cookie", "b=2".parse().unwrap());
        data.set_headers(&headers);
        data.set_body(br#"{"ok":true}"#.to_vec());
        data.set("duration_ms", Value::from(5));
        let value = data.into_value();
        let env = minijinja::Environment::new();
        let text = env
            .render_str(
                "{{ s.status }} {{ s.headers['set-cookie'] }} {{ s.body.ok }} {{ s | length }}",
                minijinja::context! { s => value.clone() },
            )
            .unwrap();
        assert_eq!(text, "200 a=1, b=2 True 4");
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            serde_json::json!({"status": 200, "headers": {"set-cookie": "a=1, b=2"}, "body": {"ok": true}, "duration_ms": 5})
        );
        let mut copy = StepData::of(&value);
        copy.remove("body");
        copy.set_body(b"plain".to_vec());
        assert_eq!(
            serde_json::to_value(copy.into_value()).unwrap()["body"],
            "plain"
        );
    }
}
