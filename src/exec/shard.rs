//! One shard of a run: `--shard INDEX/COUNT`. Each top-level `for_each` keeps the items whose
//! stable hash falls to this shard, so that COUNT runs together cover every item exactly once,
//! whatever machine each runs on; the items keep their index in the whole list (reports merge
//! back into one). Steps outside loops run in shard 0 only, unless `every_shard: true`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which shard of how many a run was (`--shard INDEX/COUNT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Shard {
    /// From 0.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// `INDEX/COUNT`, INDEX from 0.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not INDEX/COUNT, such as `0/4`"))?;
        let number = |part: &str, what: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{part}` is not a shard {what} (`{text}`)"))
        };
        Shard::new(number(index, "index")?, number(count, "count")?)
    }

    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is not below the count {count} (indexes run from 0)"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether `item` falls to this shard: the first 8 bytes of the SHA-256 of its JSON text,
    /// modulo the count — the same on every machine and in every run.
    pub fn owns(&self, item: &serde_json::Value) -> bool {
        self.count == 1 || shard_of(item, self.count) == self.index
    }

    /// Whether a step outside loops runs here.
    pub fn runs_single_steps(&self) -> bool {
        self.index == 0
    }
}

/// The shard `item` falls to among `count`.
pub fn shard_of(item: &serde_json::Value, count: u32) -> u32 {
    let text = serde_json::to_string(item).unwrap_or_default();
    let digest = Sha256::digest(text.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) % u64::from(count)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_index_over_count() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("2").is_err());
        assert!(Shard::parse("a/3").is_err());
    }

    #[test]
    fn every_item_falls_to_exactly_one_shard_and_the_split_is_even() {
        let count = 4;
        let mut sizes = [0usize; 4];
        for i in 0..4000 {
            let item = serde_json::json!(format!("child-{i}"));
            let owners: Vec<u32> = (0..count)
                .filter(|&s| Shard::new(s, count).unwrap().owns(&item))
                .collect();
            assert_eq!(owners.len(), 1, "{item}");
            sizes[owners[0] as usize] += 1;
        }
        for size in sizes {
            assert!((850..=1150).contains(&size), "{sizes:?}");
        }
        // Stable: the same item, the same shard, in every run.
        assert_eq!(
            shard_of(&serde_json::json!({"id": 7}), 4),
            shard_of(&serde_json::json!({"id": 7}), 4)
        );
    }
}
