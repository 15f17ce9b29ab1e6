//! The keymap a user writes: conflicts and mistakes stop the app at start with a message that
//! names the file and both bindings, before the terminal is taken.

use assert_cmd::Command;
use predicates::str::contains;

/// `rollcall` (the app) with `keymap` as the user's keymap.toml and an empty database.
fn app_with_keymap(keymap: &str) -> assert_cmd::assert::Assert {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config/rollcall");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("keymap.toml"), keymap).unwrap();
    let assert = Command::cargo_bin("rollcall")
        .unwrap()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .args([
            "--db",
            home.path().join("r.db").to_str().unwrap(),
            "--user",
            "ann",
        ])
        .write_stdin("")
        .assert();
    drop(home);
    assert
}

#[test]
fn a_conflict_is_refused_naming_both_bindings_and_the_file() {
    app_with_keymap("[list]\ntop = \"j\"\n")
        .failure()
        .stderr(contains(
            "keymap conflict: `j` is bound to both [list] down",
        ))
        .stderr(contains("[list] top"))
        .stderr(contains("config/rollcall/keymap.toml"))
        .stderr(contains("built-in keymap"));
}

#[test]
fn taking_a_global_key_in_a_pane_is_a_conflict() {
    app_with_keymap("[search]\nfilter = \"q\"\n")
        .failure()
        .stderr(contains("`q` is bound to both [global] quit"));
}

#[test]
fn an_unknown_action_or_key_names_file_section_and_line() {
    app_with_keymap("[list]\nupp = \"k\"\n")
        .failure()
        .stderr(contains(
            "keymap.toml: line 2: [list] `upp` is not an action there",
        ));
    app_with_keymap("[global]\n\nquit = \"ctrl-qq\"\n")
        .failure()
        .stderr(contains(
            "keymap.toml: line 3: [global] quit: `ctrl-qq` is not a key",
        ));
}

#[test]
fn a_bad_theme_names_the_file() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config/rollcall");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("theme.toml"),
        "[selected]\nfg = \"ultraviolet\"\n",
    )
    .unwrap();
    Command::cargo_bin("rollcall")
        .unwrap()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("NO_COLOR")
        .args(["--db", home.path().join("r.db").to_str().unwrap()])
        .write_stdin("")
        .assert()
        .failure()
        .stderr(contains(
            "theme.toml: line 2: [selected] fg = \"ultraviolet\" is not a colour",
        ));
}
