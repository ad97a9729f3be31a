//! Store keys: the names of token files, checked so that a key can never leave the directory.

/// The longest key accepted; file names stay well inside every file system's limit.
const MAX_LEN: usize = 128;

/// Checks a key: 1 to 128 of `[A-Za-z0-9_.-]`, not starting with `.`.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the token store key is empty".into());
    }
    if key.len() > MAX_LEN {
        return Err(format!(
            "the token store key `{key}` is longer than {MAX_LEN} characters"
        ));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "the token store key `{key}` contains `{bad}`: only letters, digits, `_`, `.` and `-` are allowed"
        ));
    }
    if key.starts_with('.') {
        return Err(format!(
            "the token store key `{key}` starts with `.`: hidden and relative names are not allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_directory() {
        for good in ["tci-parent", "ibm.connections", "A_1", "x"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "tci parent",
            "é",
            &"k".repeat(129),
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        assert!(check_key("a/b").unwrap_err().contains("`/`"));
    }
}
