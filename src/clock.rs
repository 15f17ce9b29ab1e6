use chrono::{Local, NaiveDate, NaiveDateTime, NaiveTime};

/// Who is acting and what day it is. Every date rule uses `today` (the as-of date, `--today`),
/// and every change records `user` (`--user`).
#[derive(Debug, Clone)]
pub struct Clock {
    pub today: NaiveDate,
    pub user: String,
    /// Tests fix the time of day so that timestamps are reproducible.
    fixed_time: Option<NaiveTime>,
}

impl Clock {
    pub fn new(today: NaiveDate, user: impl Into<String>) -> Clock {
        Clock {
            today,
            user: user.into(),
            fixed_time: None,
        }
    }

    /// A clock whose timestamps are always `today` at 09:00 (tests, snapshots).
    pub fn fixed(today: NaiveDate, user: impl Into<String>) -> Clock {
        Clock {
            fixed_time: NaiveTime::from_hms_opt(9, 0, 0),
            ..Clock::new(today, user)
        }
    }

    /// This clock with every timestamp at `time` of its day (tests: claims that lapse).
    pub fn at_time(mut self, time: NaiveTime) -> Clock {
        self.fixed_time = Some(time);
        self
    }

    /// The current moment on the as-of date: the real time of day, on `today`. When `--today` is
    /// the real date this is simply now; when it is not (a replay, a demo), records still fall on
    /// the day the rules are working to.
    pub fn now(&self) -> NaiveDateTime {
        let time = self.fixed_time.unwrap_or_else(|| Local::now().time());
        self.today.and_time(time)
    }

    /// `now()` as `YYYY-MM-DDTHH:MM:SS`, the form every timestamp column holds.
    pub fn now_rfc3339(&self) -> String {
        self.now().format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}
