//! `config.toml` in the platform config directory: the few settings an organisation changes.
//! Every key is optional; a missing file means all defaults. Unknown keys are refused so that a
//! typo does not silently fall back to a default.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    pub renewals: RenewalsConfig,
    pub onboarding: OnboardingConfig,
    pub escalations: EscalationsConfig,
    pub retention: RetentionConfig,
    pub ui: UiConfig,
    pub letters: LettersConfig,
    pub team: TeamConfig,
}

/// `[team]`: working beside other officers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TeamConfig {
    /// How long opening a member's contact dialog reserves them (1 to 480 minutes).
    #[serde(deserialize_with = "claim_minutes")]
    pub claim_minutes: u32,
}

/// A claim of 0 minutes would reserve nobody; one of days would keep a member from the rest of
/// the team long after the officer has gone home.
fn claim_minutes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match u32::deserialize(d)? {
        minutes @ 1..=480 => Ok(minutes),
        _ => Err(serde::de::Error::custom(
            "claim_minutes is 1 to 480 (how long opening a member's contact dialog reserves \
             them for you)",
        )),
    }
}

impl Default for TeamConfig {
    fn default() -> Self {
        TeamConfig { claim_minutes: 15 }
    }
}

/// Where the database is, when neither `--db` nor `ROLLCALL_DB` says.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// A file path, or a team database's `postgresql://` URI. Keep the password out of it
    /// (in `~/.pgpass`): this file is often shared or copied.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RenewalsConfig {
    /// "Due": end date from today to this many days ahead, both included.
    pub due_within_days: u32,
    /// "Lapsed": end date in this many days before today.
    pub lapsed_within_days: u32,
}

impl Default for RenewalsConfig {
    fn default() -> Self {
        RenewalsConfig {
            due_within_days: 30,
            lapsed_within_days: 90,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OnboardingConfig {
    /// Members who joined within this many days enter the queue.
    pub window_days: u32,
    /// A steps file replacing the default path (see assets/onboarding.toml).
    pub steps_file: Option<PathBuf>,
}

impl Default for OnboardingConfig {
    fn default() -> Self {
        OnboardingConfig {
            window_days: 90,
            steps_file: None,
        }
    }
}

/// Working-day targets by priority.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationsConfig {
    pub urgent_days: u32,
    pub high_days: u32,
    pub normal_days: u32,
    pub low_days: u32,
}

impl Default for EscalationsConfig {
    fn default() -> Self {
        EscalationsConfig {
            urgent_days: 1,
            high_days: 3,
            normal_days: 10,
            low_days: 20,
        }
    }
}

/// Storage limitation (UK GDPR article 5(1)(e)): how long rollcall keeps people who have left.
/// No rule unless set: erasing is the organisation's decision, never a default.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// `rollcall retention` erases people whose last membership ended more than this many years
    /// ago (see `storage::retention`). At least 1.
    #[serde(deserialize_with = "at_least_one_year")]
    pub erase_after_years: Option<u32>,
}

/// A retention period of 0 years would erase everyone whose membership has ended at all.
fn at_least_one_year<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match u32::deserialize(d)? {
        0 => Err(serde::de::Error::custom(
            "erase_after_years must be at least 1 (it is how many years after their last \
             membership ended people are erased)",
        )),
        years => Ok(Some(years)),
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Capture the mouse (off by default so terminal selection keeps working).
    pub mouse: bool,
    /// `default`, `high-contrast`, or a path to a theme TOML.
    pub theme: Option<String>,
}

/// `[letters]`: what `rollcall letters` fills in the same for everyone (docs/letters.md).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LettersConfig {
    /// `{renew_link}` in templates.
    pub renew_link: String,
    /// Welsh-preferring members get Welsh then English (true), or Welsh only (false).
    pub bilingual: bool,
    /// `{sender_name}`, and the first line of the return address.
    pub sender_name: String,
    /// The return address, one line per entry, printed above the envelope window.
    pub sender_address: Vec<String>,
    /// Where the app writes letters and emails (made owner-only if missing); unset: `letters/`
    /// in the data directory.
    pub output_dir: Option<PathBuf>,
    /// The `From` of `.eml` messages (`--eml`): `Membership Team <members@example.org>`.
    pub from: String,
}

impl Default for LettersConfig {
    fn default() -> Self {
        LettersConfig {
            renew_link: String::new(),
            bilingual: true,
            sender_name: "The Membership Team".to_owned(),
            sender_address: Vec::new(),
            output_dir: None,
            from: String::new(),
        }
    }
}

/// The platform config directory (e.g. `~/.config/rollcall` on Linux): config.toml, keymap,
/// theme, and the organisation's letter templates.
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "rollcall", "rollcall").map(|d| d.config_dir().to_owned())
}

impl Config {
    /// `config.toml` from the config directory, or defaults when there is none.
    pub fn load_default() -> Result<Config> {
        match config_dir() {
            Some(dir) if dir.join("config.toml").exists() => Config::load(&dir.join("config.toml")),
            _ => Ok(Config::default()),
        }
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("{}", path.display()))
    }

    /// Parses config text; errors name the line and column and the key that is wrong.
    pub fn parse(text: &str) -> Result<Config> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_defaults_and_keys_override() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let c = Config::parse("[renewals]\ndue_within_days = 45\n").unwrap();
        assert_eq!(c.renewals.due_within_days, 45);
        assert_eq!(c.renewals.lapsed_within_days, 90);
    }

    #[test]
    fn retention_is_off_unless_set_and_refuses_zero_and_typos_with_their_line() {
        assert_eq!(Config::default().retention.erase_after_years, None);
        let c = Config::parse("[retention]\nerase_after_years = 6\n").unwrap();
        assert_eq!(c.retention.erase_after_years, Some(6));
        let err = Config::parse("[ui]\nmouse = true\n[retention]\nerase_after_years = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("at least 1"), "{err}");
        let err = Config::parse("[retention]\nerase_after_year = 6\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("erase_after_year"), "{err}");
    }

    #[test]
    fn a_typo_is_refused_with_where_it_is() {
        let err = Config::parse("[renewals]\ndue_days = 45\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("due_days"), "{err}");
    }
}
