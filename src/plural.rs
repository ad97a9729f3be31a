//! Counted nouns in messages: "1 step", "3 steps".

/// `n` and the noun, singular for exactly one.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(super::count(0, "step", "steps"), "0 steps");
        assert_eq!(super::count(1, "step", "steps"), "1 step");
        assert_eq!(super::count(2, "entry", "entries"), "2 entries");
    }
}
