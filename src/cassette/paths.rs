//! Where cassettes and snapshots live: `NAME.cassette.json` beside the recipe `NAME.yaml` by
//! default, and `NAME.snapshot.json` beside its cassette.

use std::path::{Component, Path, PathBuf};

const CASSETTE: &str = ".cassette.json";
const SNAPSHOT: &str = ".snapshot.json";

/// The default cassette of a recipe: `NAME.cassette.json` beside `NAME.yaml`.
pub fn cassette_for(recipe: &Path) -> PathBuf {
    let stem = recipe
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recipe".into());
    recipe.with_file_name(format!("{stem}{CASSETTE}"))
}

/// The snapshot stored beside a cassette.
pub fn snapshot_for(cassette: &Path) -> PathBuf {
    let name = cassette
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(CASSETTE)
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    cassette.with_file_name(format!("{stem}{SNAPSHOT}"))
}

/// The recipe a cassette names, relative to the cassette's folder.
pub fn recipe_of(cassette: &Path, recipe: &str) -> PathBuf {
    cassette.parent().unwrap_or(Path::new("")).join(recipe)
}

/// `target` relative to the folder `base`, for the `recipe` field of a cassette.
pub fn relative(target: &Path, base: &Path) -> String {
    let absolute = |p: &Path| {
        std::path::absolute(p)
            .map(|p| normal(&p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let target = absolute(target);
    let base = absolute(base);
    let common = target
        .components()
        .zip(base.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in base.components().skip(common) {
        out.push("..");
    }
    for part in target.components().skip(common) {
        out.push(part);
    }
    out.to_string_lossy().replace('\\', "/")
}

fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Every `*.cassette.json` under `dir` (or `dir` itself when it is a file), sorted; hidden
/// folders, `target` and `node_modules` are skipped.
pub fn find_cassettes(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    pending.push(entry.path());
                }
            } else if name.ends_with(CASSETTE) {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_recipe() {
        let cassette = cassette_for(Path::new("runbooks/onboard.yaml"));
        assert_eq!(cassette, Path::new("runbooks/onboard.cassette.json"));
        assert_eq!(
            snapshot_for(&cassette),
            Path::new("runbooks/onboard.snapshot.json")
        );
        assert_eq!(
            snapshot_for(Path::new("x/take.json")),
            Path::new("x/take.snapshot.json")
        );
        assert_eq!(
            recipe_of(&cassette, "onboard.yaml"),
            Path::new("runbooks/onboard.yaml")
        );
    }

    #[test]
    fn relative_paths_climb_out_of_the_cassette_folder() {
        assert_eq!(
            relative(Path::new("/a/b/r.yaml"), Path::new("/a/b")),
            "r.yaml"
        );
        assert_eq!(
            relative(
                Path::new("/a/recipes/r.yaml"),
                Path::new("/a/tests/cassettes")
            ),
            "../../recipes/r.yaml"
        );
    }
}
