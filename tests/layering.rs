//! The crate layering of the workspace (crates/README.md): shared crates
//! depend only on crates before them, services only on shared crates, and no
//! service on another. This test reads every member's manifest and fails on
//! a dependency across that order, or on a member it does not know.

use std::collections::BTreeMap;
use std::path::Path;

/// Each workspace crate and the patrolchat crates it may depend on.
/// `None`: anything (the binary and the test kit).
fn allowed() -> BTreeMap<&'static str, Option<&'static [&'static str]>> {
    BTreeMap::from([
        ("patrolchat-model", Some(&[][..])),
        ("patrolchat-bus", Some(&["patrolchat-model"][..])),
        ("patrolchat-workflows", Some(&["patrolchat-model"][..])),
        (
            "patrolchat-projection",
            Some(&["patrolchat-model", "patrolchat-bus"][..]),
        ),
        (
            "patrolchat-search",
            Some(
                &[
                    "patrolchat-model",
                    "patrolchat-bus",
                    "patrolchat-projection",
                ][..],
            ),
        ),
        (
            "patrolchat-export",
            Some(
                &[
                    "patrolchat-model",
                    "patrolchat-bus",
                    "patrolchat-workflows",
                    "patrolchat-projection",
                ][..],
            ),
        ),
        (
            "patrolchat-ingest",
            Some(&["patrolchat-model", "patrolchat-bus"][..]),
        ),
        (
            "patrolchat-router",
            Some(
                &[
                    "patrolchat-model",
                    "patrolchat-bus",
                    "patrolchat-workflows",
                    "patrolchat-projection",
                ][..],
            ),
        ),
        (
            "patrolchat-api",
            Some(
                &[
                    "patrolchat-model",
                    "patrolchat-bus",
                    "patrolchat-workflows",
                    "patrolchat-projection",
                    "patrolchat-search",
                    "patrolchat-export",
                ][..],
            ),
        ),
        ("patrolchat", None),
        ("patrolchat-testkit", None),
        ("patrolchat-bench", None),
    ])
}

fn table<'a>(doc: &'a toml::Table, key: &str) -> Vec<&'a str> {
    doc.get(key)
        .and_then(|t| t.as_table())
        .map(|t| {
            t.keys()
                .map(String::as_str)
                .filter(|k| k.starts_with("patrolchat"))
                .collect()
        })
        .unwrap_or_default()
}

fn manifest(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.parse()
        .unwrap_or_else(|e| panic!("{path:?} is not TOML: {e}"))
}

#[test]
fn no_crate_depends_across_the_layering() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest(&root.join("Cargo.toml"));
    let members: Vec<&str> = workspace["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    let allowed = allowed();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for member in members.iter().copied().chain(["."]) {
        let doc = manifest(&root.join(member).join("Cargo.toml"));
        let name = doc["package"]["name"].as_str().expect("package.name");
        let Some(rule) = allowed.get(name) else {
            wrong.push(format!("{name} ({member}) has no place in the layering"));
            continue;
        };
        checked += 1;
        let Some(may) = rule else { continue };
        for dep in table(&doc, "dependencies")
            .into_iter()
            .chain(table(&doc, "build-dependencies"))
        {
            if !may.contains(&dep) {
                wrong.push(format!("{name} depends on {dep}"));
            }
        }
        for dep in table(&doc, "dev-dependencies") {
            if !may.contains(&dep) && dep != "patrolchat-testkit" {
                wrong.push(format!("{name} (tests) depends on {dep}"));
            }
        }
    }
    assert_eq!(checked, allowed.len(), "every layer has its crate");
    assert!(
        wrong.is_empty(),
        "across the layering:\n{}",
        wrong.join("\n")
    );
}
