//! Real-world header sets from each source (issue 18): what lands, field by field, and what is
//! refused. The fixtures' headers are the sources' own; the rows are made up in their value
//! formats.

mod import_support;

use import_support::{Scratch, fixture, stderr_of};

/// One contact's columns, `|`-joined, by CRM id.
fn contact(s: &Scratch, crm_id: &str, columns: &str) -> String {
    s.text(&format!(
        "SELECT {} FROM contacts WHERE crm_id = '{crm_id}'",
        columns
            .split(',')
            .map(|c| format!("IFNULL({c}, '∅')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ")
    ))
    .unwrap_or_else(|| panic!("no contact {crm_id}"))
}

/// One contact's memberships' columns, one string per membership, by sync key.
fn memberships(s: &Scratch, crm_id: &str, columns: &str) -> Vec<String> {
    let joined = columns
        .split(',')
        .map(|c| format!("IFNULL(m.{c}, '∅')"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    let conn = s.conn();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {joined} FROM memberships m JOIN contacts c ON c.id = m.contact_id \
             WHERE c.crm_id = ?1 ORDER BY m.sync_key"
        ))
        .unwrap();
    stmt.query_map([crm_id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_paid_memberships_pro_list_is_not_taken_for_nationbuilder() {
    let s = Scratch::new();
    let out = s
        .cmd()
        .arg("import")
        .arg(fixture("pmpro_members.csv"))
        .assert()
        .failure();
    let err = stderr_of(&out);
    assert!(err.contains("unknown layout (profile auto"), "{err}");
    assert!(!s.db.exists() || s.count("SELECT COUNT(*) FROM contacts") == 0);
    for cell in [
        "Rhiannon",
        "Evans",
        "rhiannon@",
        "SY23",
        "Declan",
        "username",
        "firstname",
    ] {
        assert!(!err.contains(cell), "{cell} in {err}");
    }
}

#[test]
fn a_list_with_only_generic_columns_is_refused_naming_the_closest_profile() {
    let s = Scratch::new();
    let file = s.path("plugin.csv");
    std::fs::write(
        &file,
        "id,email,first_name,last_name,level,joined\n3,a@example.org,Ann,Bell,Gold,2024-01-01\n",
    )
    .unwrap();
    let out = s.cmd().arg("import").arg(&file).assert().failure();
    let err = stderr_of(&out);
    assert!(
        err.contains("fewer than 2 columns distinctive to one built-in profile are in the file"),
        "{err}"
    );
    assert!(
        err.contains(
            "The closest is nationbuilder, which would match 4 of the 6 columns: \"id\", \
             \"email\", \"first_name\", \"last_name\""
        ),
        "{err}"
    );
    assert!(err.contains("--profile nationbuilder"), "{err}");
    for cell in ["level", "joined", "Ann", "Bell", "a@example"] {
        assert!(!err.contains(cell), "{cell} in {err}");
    }
}

#[test]
fn a_civicrm_export_with_raw_field_names_maps_like_its_titles() {
    let s = Scratch::new();
    let out = s.import("civicrm_raw.csv", &[]);
    assert!(
        out.contains("profile      civicrm (detected from the headers)"),
        "{out}"
    );
    assert_eq!(
        contact(
            &s,
            "4101",
            "contact_type,display_name,sort_name,first_name,last_name,preferred_language,\
             street_address,city,postcode,county,country,phone,email,do_not_email,do_not_phone,\
             no_bulk_email,on_hold,is_deceased"
        ),
        "Individual|Nia Pritchard|Pritchard, Nia|Nia|Pritchard|cy_GB|3 Stryd y Castell|\
         Caernarfon|LL55 1SE|Gwynedd|United Kingdom|07700 900701|nia@example.cymru|0|1|1|1|0"
    );
    assert_eq!(
        contact(&s, "4102", "contact_type,display_name"),
        "Organization|Cwmni Cydweithredol Ogwen"
    );
    assert_eq!(
        memberships(
            &s,
            "4101",
            "crm_membership_id,membership_type,join_date,start_date,end_date,membership_source,crm_status,auto_renew"
        ),
        ["7701|General|2018-05-02|2026-05-02|2027-05-01|Online|Current|1"]
    );
    assert_eq!(
        memberships(&s, "4102", "membership_type,auto_renew"),
        ["Society|0"]
    );
    assert!(
        out.contains("not read     1 column(s) not imported: \"member_is_test\""),
        "{out}"
    );
}

#[test]
fn every_report_names_the_columns_it_did_not_import() {
    let s = Scratch::new();
    let out = s.import("actionnetwork.csv", &[]);
    assert!(out.contains("column(s) not imported: "), "{out}");
    assert!(out.contains("\"can2_subscription_date\""), "{out}");
    let json = s.import_json(import_support::TODAY, "actionnetwork.csv", &[]);
    assert!(
        json["columns_not_imported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "can2_subscription_date"),
        "{json}"
    );
}

#[test]
fn a_title_line_above_a_civicrm_header_is_skipped_and_reported() {
    let s = Scratch::new();
    let out = s.import("civicrm_raw_titled.csv", &[]);
    assert!(
        out.contains("title        1 line(s) above the header skipped"),
        "{out}"
    );
    assert!(out.contains("rows read    2"), "{out}");
    assert_eq!(
        contact(&s, "4101", "display_name,email,phone"),
        "Nia Pritchard|nia@example.cymru|07700 900701"
    );
    let json = s.import_json(import_support::TODAY, "civicrm_raw_titled.csv", &[]);
    assert_eq!(json["title_lines_skipped"], 1, "{json}");
}

#[test]
fn a_title_line_is_skipped_with_a_mapping_file_too() {
    let s = Scratch::new();
    let mapping = s.path("acme.toml");
    std::fs::write(
        &mapping,
        "[columns]\ncontact_id = \"Supporter No\"\nfirst_name = \"Forename\"\nemail = \"Email\"\n",
    )
    .unwrap();
    let file = s.path("acme.csv");
    std::fs::write(
        &file,
        "Acme CRM supporters\n\"Exported 2026-11-22 by Gwen\"\nSupporter No;Forename;Email\n\
         A-1;Angharad;angharad@example.org\n",
    )
    .unwrap();
    let out = s
        .cmd()
        .arg("import")
        .args(["--profile", mapping.to_str().unwrap()])
        .arg(&file)
        .assert()
        .success();
    let out = import_support::stdout_of(&out);
    assert!(
        out.contains("title        2 line(s) above the header skipped"),
        "{out}"
    );
    assert!(out.contains("delimiter ;"), "{out}");
    assert_eq!(
        contact(&s, "A-1", "first_name,email"),
        "Angharad|angharad@example.org"
    );
}

#[test]
fn a_nationbuilder_people_export_keeps_its_preferences_and_makes_nobody_a_lifetime_member() {
    let s = Scratch::new();
    let out = s.import("nationbuilder_people.csv", &[]);
    assert!(
        out.contains("profile      nationbuilder (detected from the headers)"),
        "{out}"
    );
    let columns = "display_name,email,phone,street_address,city,county,postcode,country,\
                   do_not_email,do_not_phone,do_not_mail,do_not_sms,no_bulk_email,on_hold,is_deceased";
    assert_eq!(
        contact(&s, "501", columns),
        "Eilidh MacLeod|eilidh@example.org|01632 960501|4 Bank Street|Inverness|Highland|IV1 1QE|\
         GB|0|0|0|0|0|1|0"
    );
    assert_eq!(
        contact(&s, "502", columns),
        "Kwame Mensah|kwame@example.com|07700 900502|19 Moss Side Road\nFlat 2|Manchester|\
         Greater Manchester|M14 4PX|GB|0|1|0|0|1|0|0"
    );
    assert_eq!(
        contact(&s, "503", columns),
        "Bronwen Ellis|bronwen@example.net|01632 960503|2 Heol Fawr|Aberaeron|Ceredigion|SA46 0AA|\
         GB|1|1|1|1|0|0|1"
    );
    // membership_names has types but no dates: one membership per name, each marked "dates
    // unknown", never a lifetime Current membership.
    assert_eq!(
        memberships(&s, "501", "membership_type,join_date,end_date,crm_status"),
        ["Member|∅|∅|", "Young Greens|∅|∅|"]
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM memberships"), 3);
    assert_eq!(s.count("SELECT COUNT(*) FROM membership_dates_unknown"), 3);
    assert!(!out.contains("\"membership_names\""), "{out}");
    assert!(!out.contains("\"tag_list\""), "tags are read: {out}");
}

#[test]
fn an_action_network_report_reads_addresses_and_subscription_status() {
    let s = Scratch::new();
    let out = s.import("actionnetwork_report.csv", &[]);
    assert!(
        out.contains("profile      actionnetwork (detected from the headers)"),
        "{out}"
    );
    let columns = "street_address,city,county,postcode,country,phone,no_bulk_email,on_hold";
    assert_eq!(
        contact(&s, "5e0c1a2b-0001-4d2f-8c3a-00000000a001", columns),
        "3 Lemon Street|Truro|Cornwall|TR1 2AB|GB|07700 900801|0|0"
    );
    assert_eq!(
        contact(&s, "5e0c1a2b-0002-4d2f-8c3a-00000000a002", columns),
        "8 Ffordd Caergybi|Bangor|Gwynedd|LL57 2PW|GB|07700 900802|1|0"
    );
    assert_eq!(
        contact(&s, "5e0c1a2b-0003-4d2f-8c3a-00000000a003", columns),
        "21 Headingley Lane|Leeds|West Yorkshire|LS6 1AB|GB|07700 900803|0|1"
    );
    assert!(!out.contains("\"can2_user_tags\""), "tags are read: {out}");
}

#[test]
fn a_mapping_file_takes_membership_from_action_network_custom_fields_with_value_maps() {
    let s = Scratch::new();
    let mapping = fixture("actionnetwork_membership.toml");
    let out = s.import(
        "actionnetwork_report.csv",
        &["--profile", mapping.to_str().unwrap()],
    );
    assert!(out.contains("profile      actionnetwork-members"), "{out}");
    assert_eq!(
        memberships(
            &s,
            "5e0c1a2b-0001-4d2f-8c3a-00000000a001",
            "membership_type,crm_status,end_date"
        ),
        ["Individual|Current|2027-03-31"]
    );
    assert_eq!(
        memberships(
            &s,
            "5e0c1a2b-0002-4d2f-8c3a-00000000a002",
            "membership_type,crm_status,end_date"
        ),
        ["Individual|Expired|2026-04-30"]
    );
    // "Never": no end date, not a rejected row.
    assert_eq!(
        memberships(
            &s,
            "5e0c1a2b-0003-4d2f-8c3a-00000000a003",
            "membership_type,crm_status,end_date"
        ),
        ["Lifetime|Current|∅"]
    );
    assert!(out.contains("rejected     0 row(s)"), "{out}");
    assert_eq!(
        contact(
            &s,
            "5e0c1a2b-0002-4d2f-8c3a-00000000a002",
            "no_bulk_email,on_hold"
        ),
        "1|0"
    );
}

#[test]
fn a_mapping_file_reads_backslash_escaped_quotes_when_it_says_so() {
    let s = Scratch::new();
    let csv = s.path("export.csv");
    std::fs::write(
        &csv,
        "Ref,Name,Address\nR1,\"Dai \\\"Bach\\\" Jones\",\"1 Stryd \\\"Fawr\\\"\"\n",
    )
    .unwrap();
    let mapping = s.path("m.toml");
    let columns =
        "[columns]\ncontact_id = \"Ref\"\ndisplay_name = \"Name\"\nstreet_address = \"Address\"\n";
    std::fs::write(&mapping, format!("quote_escape = \"backslash\"\n{columns}")).unwrap();
    s.cmd()
        .arg("import")
        .args(["--profile", mapping.to_str().unwrap()])
        .arg(&csv)
        .assert()
        .success();
    assert_eq!(
        contact(&s, "R1", "display_name,street_address"),
        "Dai \"Bach\" Jones|1 Stryd \"Fawr\""
    );
}

#[test]
fn a_mapping_file_with_a_mistake_is_refused_with_its_line_and_column() {
    let s = Scratch::new();
    let mapping = s.path("m.toml");
    for (text, expected) in [
        (
            "name = \"x\"\n[columns]\ncontact_id = \"Ref\"\n  shoe_size = \"Shoe\"\n",
            "m.toml, line 4, column 3: [columns] has `shoe_size`",
        ),
        (
            "[columns]\ncontact_id = \"Ref\"\nemail = [\"E\"\n",
            "m.toml, line 3, column",
        ),
        (
            "quote_escape = \"sql\"\n[columns]\ncontact_id = \"Ref\"\n",
            "m.toml, line 1, column 16: quote_escape = \"sql\" is not one of",
        ),
        (
            "[columns]\ncontact_id = \"Ref\"\n[values.membership_status]\n\"Lapsed\" = \"Expired\"\n",
            "m.toml, line 3, column 9: [values.membership_status] maps the values of a field",
        ),
    ] {
        std::fs::write(&mapping, text).unwrap();
        let out = s
            .cmd()
            .arg("import")
            .args(["--profile", mapping.to_str().unwrap()])
            .arg(fixture("example_crm.csv"))
            .assert()
            .failure();
        let err = stderr_of(&out);
        assert!(err.contains(expected), "{expected} not in {err}");
    }
}

#[test]
fn a_nationbuilder_memberships_export_adds_dated_memberships_and_keeps_the_people() {
    let s = Scratch::new();
    s.import("nationbuilder_people.csv", &[]);
    let before = contact(&s, "501", "display_name,email,phone,on_hold");
    let out = s.import("nationbuilder_memberships.csv", &[]);
    assert!(
        out.contains("profile      nationbuilder (detected from the headers)"),
        "{out}"
    );
    assert_eq!(
        contact(&s, "501", "display_name,email,phone,on_hold"),
        before
    );
    assert_eq!(contact(&s, "502", "display_name"), "Kwame Mensah");
    assert_eq!(
        memberships(
            &s,
            "501",
            "membership_type,join_date,start_date,end_date,crm_status"
        ),
        [
            "Member|2019-04-02|2019-04-02|2027-04-01|Current",
            "Young Greens|2022-04-02|2022-04-02|2026-11-01|Grace"
        ]
    );
    assert_eq!(
        memberships(&s, "502", "membership_type,end_date,crm_status"),
        ["Member|2025-09-30|Expired"]
    );
    assert!(out.contains("\"status_reason\""), "{out}");
}
