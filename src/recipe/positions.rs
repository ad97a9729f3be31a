//! Where every key and value of a YAML document is, for the positions of errors found after
//! deserialisation (`source::PositionIndex`).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::load::Spanned;
use crate::source::{FieldPath, Position, PositionIndex};

/// Where every key and value of the YAML document `text` is; a document that does not parse
/// yields an empty index.
pub fn index(text: &str) -> PositionIndex {
    let mut index = PositionIndex::default();
    if let Ok(root) = super::load::parse_spanned::<Node>(text) {
        walk(&mut index, &FieldPath::root(), &root);
    }
    index
}

fn walk(index: &mut PositionIndex, path: &FieldPath, node: &Spanned<Node>) {
    index.value(path.clone(), position(node));
    match &node.value {
        Node::Map(entries) => {
            for (key, value) in entries {
                let child = path.key(&key.value.0);
                index.key(child.clone(), position(key));
                walk(index, &child, value);
            }
        }
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(index, &path.index(i), item);
            }
        }
        Node::Scalar => {}
    }
}

fn position<T>(spanned: &Spanned<T>) -> Position {
    Position {
        line: u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX),
        column: u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX),
    }
}

/// A YAML node with positions for its children, and nothing else.
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

/// A mapping key as text, whatever scalar type it had.
struct Key(String);

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry()? {
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Key("?".to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Key("?".to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_values_by_path() {
        let text = "version: 1\nsteps:\n  - id: a\n    request:\n      url: http://x\n";
        let index = index(text);
        let url = FieldPath::root()
            .key("steps")
            .index(0)
            .key("request")
            .key("url");
        assert_eq!(
            index.lookup(&url, false),
            Some(Position {
                line: 5,
                column: 12
            })
        );
        assert_eq!(
            index.lookup(&url, true),
            Some(Position { line: 5, column: 7 })
        );
        let missing = FieldPath::root().key("steps").index(0).key("nothing");
        assert_eq!(
            index.lookup(&missing, false),
            Some(Position { line: 3, column: 5 })
        );
    }
}
