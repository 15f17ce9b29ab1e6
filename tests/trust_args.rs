//! A wrong argument gets a message naming it and what would be accepted, and a non-zero exit.

mod trust_support;

use trust_support::*;

/// Arguments, environment, and what the error must mention.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a [&'a str]);

/// Runs rollcall with exactly `args` (no defaults added) and returns (exit code, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_rollcall"));
    for var in [
        "ROLLCALL_DB",
        "ROLLCALL_TODAY",
        "ROLLCALL_USER",
        "ROLLCALL_READ_ONLY",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.envs(env.iter().copied()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn wrong_global_values_name_the_option_and_what_is_accepted() {
    let s = seeded();
    let db = s.db.to_str().unwrap();
    let long_name = "x".repeat(65);
    let cases: Vec<Case> = vec![
        (
            vec!["--db", db, "--today", "2026-13-01", "audit"],
            vec![],
            &["--today", "2026-13-01", "YYYY-MM-DD"],
        ),
        (
            vec!["--db", db, "--today", "02/03/2026", "audit"],
            vec![],
            &["--today", "YYYY-MM-DD"],
        ),
        (
            vec!["--db", db, "audit"],
            vec![("ROLLCALL_TODAY", "tomorrow")],
            &["--today", "tomorrow", "YYYY-MM-DD"],
        ),
        (
            vec!["--db", db, "--user", "amira\u{7}\u{1b}[2J", "audit"],
            vec![],
            &["--user", "1 to 64 printable characters"],
        ),
        (
            vec!["--db", db, "--user", "", "audit"],
            vec![],
            &["--user", "1 to 64 printable characters"],
        ),
        (
            vec!["--db", db, "audit"],
            vec![("ROLLCALL_USER", &long_name)],
            &["--user", "1 to 64 printable characters"],
        ),
        (
            vec!["--db", db, "audit", "--since", "2026-02-30"],
            vec![],
            &["--since", "YYYY-MM-DD"],
        ),
        (
            vec!["--db", db, "audit", "--frobnicate"],
            vec![],
            &["--frobnicate"],
        ),
        (vec!["--db", db, "forgot"], vec![], &["forgot", "forget"]),
        (vec!["--db", db, "forget"], vec![], &["CONTACT_ID"]),
    ];
    for (args, env, expected) in cases {
        let (code, stderr) = run(&args, &env);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        for e in expected {
            assert!(
                stderr.contains(e),
                "{args:?} should mention `{e}`: {stderr}"
            );
        }
    }
}

#[test]
fn db_pointing_at_a_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    for command in [vec!["audit"], vec!["forget", "1", "--yes"]] {
        let mut args = vec!["--db", path];
        args.extend(&command);
        let (code, stderr) = run(&args, &[]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains(&format!("--db {path}: is a directory")),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("{path}/rollcall.db")), "{stderr}");
    }
}

#[test]
fn a_control_character_in_user_is_never_echoed_raw() {
    let (_, stderr) = run(&["--user", "x\u{1b}[2Jy", "audit"], &[]);
    assert!(
        !stderr.contains('\u{1b}'),
        "escape sequence reached the terminal: {stderr:?}"
    );
}

#[test]
fn read_only_from_the_environment_takes_the_usual_spellings() {
    let s = seeded();
    let db = s.db.to_str().unwrap();
    for on in ["1", "true", "yes", "on"] {
        let (code, stderr) = run(
            &["--db", db, "forget", TARGET.crm_id, "--yes"],
            &[("ROLLCALL_READ_ONLY", on)],
        );
        assert_eq!(code, 1, "{on}: {stderr}");
        assert!(stderr.contains("read-only"), "{on}: {stderr}");
    }
    let (code, stderr) = run(&["--db", db, "audit"], &[("ROLLCALL_READ_ONLY", "0")]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = run(&["--db", db, "audit"], &[("ROLLCALL_READ_ONLY", "banana")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--read-only") && stderr.contains("banana"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_config_file_is_named_with_the_line_and_what_is_accepted() {
    let s = seeded();
    let db = s.db.to_str().unwrap();
    let home = s.dir.path().join("config-home");
    std::fs::create_dir_all(home.join("rollcall")).unwrap();
    let config = home.join("rollcall/config.toml");
    let home = home.to_str().unwrap();
    for (text, expected) in [
        (
            "[renewals]\ndue_days = 45\n",
            vec!["line 2", "due_days", "due_within_days"],
        ),
        (
            "[renewals]\ndue_within_days = \"soon\"\n",
            vec!["line 2", "due_within_days"],
        ),
        ("[renewals\n", vec!["line 1"]),
    ] {
        std::fs::write(&config, text).unwrap();
        let (code, stderr) = run(&["--db", db, "renewals"], &[("XDG_CONFIG_HOME", home)]);
        assert_eq!(code, 1, "{text:?}: {stderr}");
        assert!(
            stderr.contains(config.to_str().unwrap()),
            "names the file: {stderr}"
        );
        for e in expected {
            assert!(
                stderr.contains(e),
                "{text:?} should mention `{e}`: {stderr}"
            );
        }
    }
}

/// With no `--user` and no `$USER`, `$LOGNAME` or `$USERNAME` (a cron job, a service), the
/// acting user is the login name of the process's user id, not "unknown".
#[test]
fn without_user_variables_the_login_name_of_the_uid_is_recorded() {
    let s = seeded();
    let login = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let login = String::from_utf8(login.stdout).unwrap().trim().to_owned();
    assert!(!login.is_empty());
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .env_remove("ROLLCALL_USER")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .args(["--db", s.db.to_str().unwrap(), "--today", TODAY, "stats"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("My work ({login}, {TODAY})")),
        "{stdout}"
    );
}
