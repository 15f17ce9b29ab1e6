//! The staff list on both engines (issue 16, "Staff are real"): `rollcall team add-staff`,
//! `staff`, `set-role`, `remove-staff`, the rules that keep it sound (an admin manages it, the
//! last admin stays), and assignments checked against it. Every refusal changes nothing.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
mod engines;

use assert_cmd::Command;
use engines::TestDb;

fn rollcall(db: &TestDb, user: &str) -> Command {
    let mut cmd = Command::cargo_bin("rollcall").unwrap();
    cmd.env("ROLLCALL_DB", db.url())
        .env("ROLLCALL_TODAY", "2026-11-23")
        .env("ROLLCALL_USER", user)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("ROLLCALL_READ_ONLY")
        .env_remove("PGPASSWORD");
    cmd
}

/// `user` runs `args`; its standard output, failing on a non-zero exit.
fn ok(db: &TestDb, user: &str, args: &[&str]) -> String {
    let out = rollcall(db, user).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "rollcall {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `user` runs `args`, which must fail without changing the staff list or the audit trail;
/// its standard error.
fn refused(db: &TestDb, user: &str, args: &[&str]) -> String {
    let before = (staff_json(db), audit_lines(db));
    let out = rollcall(db, user).args(args).output().unwrap();
    assert!(!out.status.success(), "rollcall {args:?} should fail");
    assert_eq!(
        (staff_json(db), audit_lines(db)),
        before,
        "{args:?} changed something"
    );
    String::from_utf8(out.stderr).unwrap()
}

fn staff_json(db: &TestDb) -> String {
    ok(db, "anyone", &["team", "staff", "--all", "--json"])
}

fn audit_lines(db: &TestDb) -> i64 {
    db.open()
        .conn
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

/// Two members in two regions, and an escalation on the first.
fn seed(db: &TestDb) {
    let store = db.open();
    for (crm_id, region, party) in [
        ("1", "Wales", "Cardiff West"),
        ("2", "North West", "Bolton"),
    ] {
        store
            .conn
            .execute(
                "INSERT INTO contacts (source, crm_id, first_name, last_name, region, local_party)
                 VALUES ('civicrm', ?1, 'Test', 'Member', ?2, ?3)",
                [crm_id, region, party],
            )
            .unwrap();
    }
}

engines::on_both_engines! {
    fn an_admin_builds_the_staff_list_and_assignments_follow_it(db: &TestDb) {
        seed(db);
        assert!(ok(db, "ann", &["team", "staff"]).contains("Nobody is on the staff list yet"));
        // Before there is a list, any name may be assigned (one officer's own file).
        ok(db, "ann", &["escalate", "--contact", "1", "--category", "complaint",
            "--priority", "normal", "--title", "Before the list", "--assign", "whoever"]);

        let first = refused(db, "ann", &["team", "add-staff", "bo", "--name", "Bo Evans",
            "--role", "officer"]);
        assert!(first.contains("the first staff member must be an admin"), "{first}");
        assert_eq!(
            ok(db, "ann", &["team", "add-staff", "ann", "--name", "Ann Jones", "--role", "admin"]),
            "Added ann (Ann Jones) as admin.\n"
        );
        assert_eq!(
            ok(db, "ann", &["team", "add-staff", "cai", "--name", "Cai Morgan",
                "--role", "organiser", "--region", "wales", "--local-party", "BOLTON"]),
            "Added cai (Cai Morgan) as organiser for Wales, Bolton.\n",
            "regions and parties are stored as the members' records spell them"
        );
        ok(db, "ann", &["team", "add-staff", "bo", "--name", "Bo Evans", "--role", "officer"]);
        let listing = ok(db, "ann", &["team", "staff"]);
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 4, "{listing}");
        assert!(lines[1].starts_with("ann ") && lines[1].contains("admin") && lines[1].contains("everyone"), "{listing}");
        assert!(lines[3].starts_with("cai ") && lines[3].contains("Wales, Bolton"), "{listing}");

        // Assignments now name someone on the list.
        let unknown = refused(db, "bo", &["escalate", "--contact", "1", "--category", "complaint",
            "--priority", "normal", "--title", "After", "--assign", "zed"]);
        assert!(unknown.contains("\"zed\" is not on the staff list; assign one of: ann, bo, cai"), "{unknown}");
        ok(db, "bo", &["escalate", "--contact", "1", "--category", "complaint",
            "--priority", "normal", "--title", "To Cai", "--assign", "cai"]);

        // Removal keeps the row and the history; a removed login is neither assignable nor reusable.
        ok(db, "ann", &["team", "remove-staff", "cai"]);
        let gone = refused(db, "bo", &["escalate", "--contact", "1", "--category", "complaint",
            "--priority", "normal", "--title", "To Cai again", "--assign", "cai"]);
        assert!(gone.contains("cai is no longer on the staff list (removed 2026-11-23)"), "{gone}");
        let reuse = refused(db, "ann", &["team", "add-staff", "cai", "--name", "Cai Two",
            "--role", "officer"]);
        assert!(reuse.contains("a login is never given to someone else"), "{reuse}");
        assert!(!ok(db, "ann", &["team", "staff"]).contains("cai"));
        assert!(ok(db, "ann", &["team", "staff", "--all"]).contains("removed 2026-11-23"));
        let audit = ok(db, "ann", &["audit"]);
        assert!(audit.contains("staff.remove"), "{audit}");
        assert!(audit.contains("staff.add"), "{audit}");
    }
}

// Another admin than the first test's: on PostgreSQL logins belong to the whole server, and
// the two tests run at once.
engines::on_both_engines! {
    fn the_staff_list_refuses_what_would_leave_it_unsound(db: &TestDb) {
        seed(db);
        ok(db, "amy", &["team", "add-staff", "amy", "--name", "Amy Jones", "--role", "admin"]);
        ok(db, "amy", &["team", "add-staff", "bo", "--name", "Bo Evans", "--role", "officer"]);
        let cases: [(&str, &[&str], &str); 9] = [
            ("amy", &["team", "add-staff", "bo", "--name", "Bo Again", "--role", "viewer"],
                "bo is already on the staff list, as officer"),
            ("bo", &["team", "add-staff", "dai", "--name", "Dai", "--role", "viewer"],
                "only an admin can add staff; bo is officer"),
            ("zed", &["team", "remove-staff", "bo"],
                "only an admin can remove staff, and zed is not on the staff list"),
            ("amy", &["team", "remove-staff", "amy"],
                "amy is the last admin and cannot be removed"),
            ("amy", &["team", "set-role", "amy", "--role", "officer"],
                "amy is the last admin and cannot stop being an admin"),
            ("amy", &["team", "add-staff", "Dai Jones", "--name", "Dai", "--role", "viewer"],
                "\"Dai Jones\" is not a staff login"),
            ("amy", &["team", "add-staff", "dai", "--name", "Dai", "--role", "organiser",
                "--region", "Atlantis"], "no member's region is \"Atlantis\""),
            ("amy", &["team", "add-staff", "dai", "--name", "Dai", "--role", "organiser"],
                "give at least one --region or --local-party"),
            ("amy", &["team", "set-role", "nobody", "--role", "viewer"],
                "nobody is not on the staff list"),
        ];
        for (user, args, says) in cases {
            let err = refused(db, user, args);
            assert!(err.contains(says), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "one line: {err}");
        }
        let role = refused(db, "amy", &["team", "set-role", "bo", "--role", "boss"]);
        assert!(role.contains("admin, coordinator, officer, organiser, viewer"), "{role}");

        // With a second admin, the first may step down.
        ok(db, "amy", &["team", "set-role", "bo", "--role", "admin"]);
        assert_eq!(
            ok(db, "bo", &["team", "set-role", "amy", "--role", "officer"]),
            "amy is now officer (was admin).\n"
        );
    }
}
