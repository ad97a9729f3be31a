//! `range(...)` as templates know it, but lazy and without minijinja's cap of 100,000 items:
//! a sequence object that computes its items when asked, so that `for_each: range(1000000)`
//! does not build a list first, and `range(n) | length` costs nothing.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Error, ErrorKind, Value};

/// Far more than any loop runs; a guard against a typo of a few more zeros.
pub const MAX_ITEMS: u64 = 100_000_000;

#[derive(Debug)]
struct Range {
    start: i64,
    step: i64,
    len: usize,
}

impl Object for Range {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = key.as_usize()?;
        (i < self.len).then(|| Value::from(self.start + self.step * i as i64))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.len)
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len)
    }
}

/// The length of `value` when a loop can take its items one at a time by index instead of
/// converting it whole: a lazy range, or any sequence (a list input, a filter's result).
pub fn lazy_len(value: &Value) -> Option<usize> {
    if let Some(range) = value.downcast_object_ref::<Range>() {
        return Some(range.len);
    }
    match value.kind() {
        minijinja::value::ValueKind::Seq => value.len(),
        _ => None,
    }
}

/// `range(stop)`, `range(start, stop)`, `range(start, stop, step)`, as Python and minijinja
/// have them.
pub fn range(lower: i64, upper: Option<i64>, step: Option<i64>) -> Result<Value, Error> {
    let (start, end) = match upper {
        Some(upper) => (lower, upper),
        None => (0, lower),
    };
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "cannot create a range with a step of 0",
        ));
    }
    let span = if step > 0 {
        end.saturating_sub(start)
    } else {
        start.saturating_sub(end)
    };
    let len = if span <= 0 {
        0
    } else {
        (span as u64 - 1) / step.unsigned_abs() + 1
    };
    if len > MAX_ITEMS {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("a range of {len} items is more than the {MAX_ITEMS} whisk allows"),
        ));
    }
    Ok(Value::from_object(Range {
        start,
        step,
        len: len as usize,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(value: &Value) -> Vec<i64> {
        value
            .try_iter()
            .unwrap()
            .map(|v| i64::try_from(v).unwrap())
            .collect()
    }

    #[test]
    fn like_pythons_range() {
        assert_eq!(items(&range(4, None, None).unwrap()), [0, 1, 2, 3]);
        assert_eq!(items(&range(2, Some(8), Some(3)).unwrap()), [2, 5]);
        assert_eq!(items(&range(5, Some(0), Some(-2)).unwrap()), [5, 3, 1]);
        assert!(items(&range(3, Some(3), None).unwrap()).is_empty());
        assert!(range(0, Some(1), Some(0)).is_err());
    }

    #[test]
    fn a_million_items_are_not_made_until_asked_for() {
        let big = range(1_000_000, None, None).unwrap();
        assert_eq!(big.len(), Some(1_000_000));
        assert_eq!(
            big.get_item(&Value::from(999_999)).unwrap(),
            Value::from(999_999)
        );
        assert!(range(MAX_ITEMS as i64 + 1, None, None).is_err());
    }
}
