//! Where the token store lives: `--token-store`, else `WHISK_TOKEN_STORE` (a directory or a
//! `postgres://` URL), else `$XDG_STATE_HOME/whisk/tokens`, else `~/.local/state/whisk/tokens`.

use std::ffi::OsString;
use std::path::PathBuf;

/// The store directory from a flag and an environment lookup; `None` when nothing names one
/// (no flag, no variables, no home directory).
pub fn resolve(flag: Option<PathBuf>, env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = flag.filter(|p| !p.as_os_str().is_empty()) {
        return Some(dir);
    }
    if let Some(dir) = set("WHISK_TOKEN_STORE") {
        return Some(dir);
    }
    // The XDG spec says relative paths are invalid and must be ignored.
    if let Some(state) = set("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Some(state.join("whisk").join("tokens"));
    }
    set("HOME").map(|home| {
        home.join(".local")
            .join("state")
            .join("whisk")
            .join("tokens")
    })
}

/// Where the store of this process is: a directory, or a `postgres://` URL.
pub fn location_from_env(flag: Option<PathBuf>) -> Option<PathBuf> {
    resolve(flag, |name| std::env::var_os(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn flag_then_variable_then_xdg_then_home() {
        let all = env(&[
            ("WHISK_TOKEN_STORE", "/w"),
            ("XDG_STATE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        assert_eq!(resolve(Some("/f".into()), &all), Some("/f".into()));
        assert_eq!(resolve(None, &all), Some("/w".into()));
        let xdg = env(&[("XDG_STATE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(resolve(None, &xdg), Some("/x/whisk/tokens".into()));
        let relative = env(&[("XDG_STATE_HOME", "rel"), ("HOME", "/h")]);
        assert_eq!(
            resolve(None, &relative),
            Some("/h/.local/state/whisk/tokens".into())
        );
        assert_eq!(resolve(None, env(&[("WHISK_TOKEN_STORE", "")])), None);
    }
}
