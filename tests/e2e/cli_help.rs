//! The command line's own help: examples that fit 80 columns, global options listed apart
//! from each command's own, a man page for every command a page names (nested ones too), and
//! `whisk validate` warning about secrets this environment does not provide.

use crate::harness::{Whisk, scrub};

/// Every command path: `[]`, `["run"]`, `["auth"]`, `["auth", "login"]`, ...
fn commands() -> Vec<Vec<String>> {
    let mut all = vec![Vec::new()];
    let mut i = 0;
    while i < all.len() {
        let path = all[i].clone();
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = Whisk::new().command(&args);
        assert_eq!(help.code, 0, "{args:?}: {}", help.stderr);
        let listed = help
            .stdout
            .lines()
            .skip_while(|l| *l != "Commands:")
            .skip(1)
            .take_while(|l| l.starts_with("  "));
        for line in listed {
            let name = line.split_whitespace().next().unwrap_or_default();
            // Continuation lines of a long description start with more spaces.
            if line.starts_with("   ") || name == "help" {
                continue;
            }
            let mut sub = path.clone();
            sub.push(name.to_owned());
            all.push(sub);
        }
        i += 1;
    }
    all
}

#[test]
fn help_examples_fit_80_columns_and_global_options_stand_apart() {
    let all = commands();
    assert!(all.iter().any(|p| p == &["auth", "login"]), "{all:?}");
    for path in &all {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = Whisk::new().command(&args).stdout;
        let examples = help.lines().skip_while(|l| !l.starts_with("Examples:"));
        for line in examples {
            assert!(
                line.chars().count() <= 80,
                "`whisk {}` help has a line of {} columns:\n{line}",
                path.join(" "),
                line.chars().count()
            );
        }
        let own = help
            .lines()
            .skip_while(|l| *l != "Options:")
            .take_while(|l| !l.is_empty() && *l != "Global options:")
            .collect::<Vec<_>>()
            .join("\n");
        for global in ["--color", "--token-store", "--error-format"] {
            assert!(
                !own.contains(global),
                "`whisk {}` lists {global} among its own options",
                path.join(" ")
            );
        }
        assert!(help.contains("Global options:"), "{help}");
    }
}

/// A `whisk-a-b(1)` a page refers to, as the command path `["a", "b"]`.
fn referenced(page: &str) -> Vec<Vec<String>> {
    let name = regex::Regex::new(r"whisk((?:\\-[a-z]+)+)\(1\)").unwrap();
    name.captures_iter(page)
        .map(|c| {
            c[1].split("\\-")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .collect()
}

#[test]
fn every_man_page_a_page_names_exists() {
    let mut seen: Vec<Vec<String>> = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        if seen.contains(&path) {
            continue;
        }
        let mut args = vec!["man"];
        args.extend(path.iter().map(String::as_str));
        let page = Whisk::new().command(&args);
        assert_eq!(page.code, 0, "`whisk {}`: {}", args.join(" "), page.stderr);
        let title = if path.is_empty() {
            "whisk".to_owned()
        } else {
            format!("whisk-{}", path.join("-"))
        };
        assert!(page.stdout.contains(&format!(".TH {title} 1")), "{title}");
        todo.extend(referenced(&page.stdout));
        seen.push(path);
    }
    for expected in [
        &["run"][..],
        &["auth"],
        &["auth", "login"],
        &["auth", "logout"],
    ] {
        assert!(
            seen.iter().any(|p| p == expected),
            "{expected:?} in {seen:?}"
        );
    }
    assert!(!seen.iter().any(|p| p.last().is_some_and(|n| n == "help")));
    let unknown = Whisk::new().command(&["man", "auth", "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("expected one of `login`, `status`, `logout`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn validate_warns_about_secrets_this_environment_lacks() {
    let whisk = Whisk::new();
    let dir = whisk.dir.path().to_path_buf();
    let recipe = whisk.file(
        "recipe.yaml",
        "version: 1\nname: w\nsecrets:\n  token: { env: WHISK_TEST_UNSET_SECRET }\n  empty: { env: WHISK_TEST_EMPTY_SECRET }\n  given: { env: WHISK_TEST_GIVEN_SECRET }\n  key: { file: missing.key }\nauth:\n  api: { bearer: \"{{ secrets.token }}{{ secrets.empty }}{{ secrets.given }}{{ secrets.key }}\" }\nsteps:\n  - id: a\n    auth: api\n    request: { url: \"https://api.example.com/v1\" }\n",
    );
    let out = whisk
        .env("WHISK_TEST_EMPTY_SECRET", "")
        .env("WHISK_TEST_GIVEN_SECRET", "s3cr3t")
        .command(&["validate", recipe.to_str().unwrap()]);
    assert_eq!(out.code, 0, "warnings only: {}", out.stderr);
    assert!(!out.stderr.contains("s3cr3t"));
    insta::assert_snapshot!("validate_unset_secrets", scrub(&out.stderr, &dir));
}
