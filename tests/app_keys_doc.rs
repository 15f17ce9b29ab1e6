//! docs/keys.md is generated from the built-in keymap and the panes' commands, so it lists every
//! default binding. After changing either, regenerate it with
//! `UPDATE_KEYS_DOC=1 cargo test --test app_keys_doc`.

use rollcall::app::keymap::{builtin_bindings, keys_markdown};
use rollcall::app::panes;
use rollcall::app::shell::pane_commands;

#[test]
fn docs_keys_md_lists_every_default_binding() {
    let panes = panes::all();
    let expected = keys_markdown(&pane_commands(&panes));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keys.md");
    if std::env::var_os("UPDATE_KEYS_DOC").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    for (section, entries) in builtin_bindings() {
        assert!(
            actual.contains(&format!("`[{section}]`")),
            "section {section}"
        );
        for (action, keys) in entries {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            let row = format!("| {} | {action} |", keys.join(" "));
            assert!(actual.contains(&row), "[{section}] {action}: {row}");
        }
    }
    assert!(
        actual == expected,
        "docs/keys.md is out of date: run UPDATE_KEYS_DOC=1 cargo test --test app_keys_doc"
    );
}
