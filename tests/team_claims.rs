//! Claims on both engines (issue 16): one officer at a time on a member, never silently taken
//! over, lapsing by themselves, released by their holder, erased with the person.

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

#[path = "support/engines.rs"]
mod engines;

use chrono::NaiveDate;
use engines::TestDb;
use rollcall::Clock;
use rollcall::storage::claims::{self, Claimed};

fn at(user: &str, time: &str) -> Clock {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let moment = chrono::NaiveTime::parse_from_str(time, "%H:%M").unwrap();
    Clock::fixed(today, user).at_time(moment)
}

fn member(db: &TestDb, crm_id: &str) -> i64 {
    db.open()
        .conn
        .query_row(
            "INSERT INTO contacts (source, crm_id, display_name) VALUES ('civicrm', ?1, 'A Member')
             RETURNING id",
            [crm_id],
            |r| r.get(0),
        )
        .unwrap()
}

engines::on_both_engines! {
    fn one_officer_at_a_time_and_a_claim_lapses_by_itself(db: &TestDb) {
        let aled = member(db, "1");
        let mut store = db.open();
        let ann = at("ann", "09:00");
        assert_eq!(
            claims::claim(&mut store, &ann, aled, 15, false).unwrap(),
            Claimed::Yours { expires_at: "2026-11-23T09:15:00".into() }
        );
        let bo = at("bo", "09:05");
        let Claimed::HeldBy(held) = claims::claim(&mut store, &bo, aled, 15, false).unwrap() else {
            panic!("bo must be told ann is on it");
        };
        assert_eq!((held.login.as_str(), held.until()), ("ann", "09:15"));
        assert_eq!(claims::held_by_others(&store.conn, &bo).unwrap().len(), 1);
        assert!(claims::held_by_others(&store.conn, &ann).unwrap().is_empty(), "not her own");
        // bo's release cannot free ann's claim.
        assert_eq!(claims::release(&mut store, &bo, &[aled]).unwrap(), 0);
        // Past its time it is nobody's: a crashed window leaves nothing stuck.
        let later = at("bo", "09:16");
        assert!(claims::held_by_others(&store.conn, &later).unwrap().is_empty());
        assert!(matches!(
            claims::claim(&mut store, &later, aled, 15, false).unwrap(),
            Claimed::Yours { .. }
        ));
        assert_eq!(claims::release(&mut store, &later, &[aled]).unwrap(), 1);
        let audit: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM audit_log WHERE action IN ('claim.take', 'claim.release')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(audit, 3, "every claim and release is an audit line");
    }
}

engines::on_both_engines! {
    fn two_officers_claiming_at_once_get_one_claim(db: &TestDb) {
        let aled = member(db, "1");
        let winners: Vec<bool> = std::thread::scope(|s| {
            let tries: Vec<_> = ["ann", "bo", "cai", "dee"]
                .into_iter()
                .map(|who| {
                    s.spawn(move || {
                        let mut store = db.open();
                        matches!(
                            claims::claim(&mut store, &at(who, "09:00"), aled, 15, false).unwrap(),
                            Claimed::Yours { .. }
                        )
                    })
                })
                .collect();
            tries.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert_eq!(winners.iter().filter(|w| **w).count(), 1, "{winners:?}");
    }
}

engines::on_both_engines! {
    fn forgetting_a_member_removes_their_claim(db: &TestDb) {
        let aled = member(db, "4417");
        let mut store = db.open();
        claims::claim(&mut store, &at("ann", "09:00"), aled, 15, false).unwrap();
        rollcall::storage::erase::forget(&mut store, &at("ann", "09:01"), aled).unwrap();
        let left: i64 = store
            .conn
            .query_row("SELECT count(*) FROM claims", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
