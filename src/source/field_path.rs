//! Field paths such as `steps[2].request.url`: how errors name a place in a recipe.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the document root to one value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    pub fn key(&self, key: &str) -> FieldPath {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_string()));
        next
    }

    pub fn index(&self, index: usize) -> FieldPath {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// `self` followed by the segments of `relative`.
    pub fn join(&self, relative: &FieldPath) -> FieldPath {
        let mut joined = self.clone();
        joined.0.extend(relative.0.iter().cloned());
        joined
    }

    pub fn parent(&self) -> Option<FieldPath> {
        let mut parent = self.clone();
        parent.0.pop()?;
        Some(parent)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// How many keys and indexes lead here (`steps[2]` is 2 deep).
    pub fn depth(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_the_recipe_reads() {
        let path = FieldPath::root()
            .key("steps")
            .index(2)
            .key("request")
            .key("url");
        assert_eq!(path.to_string(), "steps[2].request.url");
        assert_eq!(path.parent().unwrap().to_string(), "steps[2].request");
        assert!(FieldPath::root().parent().is_none());
    }
}
