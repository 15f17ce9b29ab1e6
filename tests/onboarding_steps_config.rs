//! A custom onboarding path from `[onboarding] steps_file`, and a clear refusal of a broken one.

mod onboarding_support;

use std::path::Path;

use onboarding_support::*;
use rollcall::config::{Config, OnboardingConfig};
use rollcall::domain::onboarding::StepPath;
use rollcall::storage::onboarding;

const SOCIETY_PATH: &str = r#"
[[step]]
key = "welcome_pack"
label = "Welcome pack posted"
due_days = 5

[[step]]
key = "welcome_call"
label = "Phoned by the branch secretary"
due_days = 10
"#;

fn config_with(file: &Path) -> OnboardingConfig {
    let text = format!(
        "[onboarding]\nsteps_file = {:?}\n",
        file.display().to_string()
    );
    Config::parse(&text).unwrap().onboarding
}

#[test]
fn a_custom_path_replaces_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("steps.toml");
    std::fs::write(&file, SOCIETY_PATH).unwrap();
    let path = StepPath::from_config(&config_with(&file)).unwrap();
    let labels: Vec<&str> = path.steps().iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Welcome pack posted", "Phoned by the branch secretary"]
    );

    let mut store = memory_store();
    let c = Member::new("1", "Aled")
        .joined("2026-11-15")
        .insert(&store.conn);
    let q = onboarding::load_queue(&mut store, &clock(), &config_with(&file)).unwrap();
    let progress = q[0].progress(&path, today());
    assert_eq!((progress.done, progress.total), (0, 2));
    assert_eq!(progress.next.unwrap().due, d("2026-11-20"));
    // Two steps done completes a two-step path.
    onboarding::tick(&mut store, &clock(), &path, "welcome_pack", &[c]).unwrap();
    let out = onboarding::tick(&mut store, &clock(), &path, "welcome_call", &[c]).unwrap();
    assert_eq!(out.completed, 1);
}

#[test]
fn relabelling_keeps_progress_and_a_removed_key_is_ignored() {
    let mut store = memory_store();
    let c = Member::new("1", "Aled")
        .joined("2026-11-15")
        .insert(&store.conn);
    let default = StepPath::default_path();
    onboarding::load_queue(&mut store, &clock(), &OnboardingConfig::default()).unwrap();
    onboarding::tick(&mut store, &clock(), &default, "welcome_call", &[c]).unwrap();
    onboarding::tick(&mut store, &clock(), &default, "welcome_email", &[c]).unwrap();

    // welcome_call keeps its key under a new label; welcome_email is gone from the path.
    let custom = StepPath::parse(SOCIETY_PATH, "steps.toml").unwrap();
    let q = onboarding::load_queue(&mut store, &clock(), &OnboardingConfig::default()).unwrap();
    let progress = q[0].progress(&custom, today());
    assert_eq!((progress.done, progress.total), (1, 2));
    assert_eq!(
        custom.get(progress.next.unwrap().index).unwrap().key,
        "welcome_pack"
    );
    // The stored row for the removed key is still there, only ignored.
    assert!(q[0].steps.contains_key("welcome_email"));

    // A path whose only step is already done is not closed at load, but by the next tick.
    let only_call = StepPath::parse(
        "[[step]]\nkey = \"welcome_call\"\nlabel = \"Call\"\ndue_days = 7\n",
        "one.toml",
    )
    .unwrap();
    let q = onboarding::load_queue(&mut store, &clock(), &OnboardingConfig::default()).unwrap();
    assert!(q[0].progress(&only_call, today()).is_complete());
    let out = onboarding::tick(&mut store, &clock(), &only_call, "welcome_call", &[c]).unwrap();
    assert_eq!((out.ticked, out.already_done, out.completed), (0, 1, 1));
    onboarding::undo(&mut store, &clock(), &out.undo).unwrap();
    let q = onboarding::load_queue(&mut store, &clock(), &OnboardingConfig::default()).unwrap();
    assert_eq!(q.len(), 1, "undo re-opens the path");
    assert!(
        q[0].steps.contains_key("welcome_call"),
        "and keeps the step"
    );
}

#[test]
fn a_broken_steps_file_is_refused_naming_the_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("steps.toml");
    let cases = [
        (
            "[[step]]\nkey = \"call\"\nlabel = \"Call\"\ndue_days = 7\n\n[[step]]\nkey = \"call\"\nlabel = \"Call again\"\ndue_days = 14\n",
            "line 7",
            "`call` appears twice",
        ),
        (
            "[[step]]\nkey = \"call\"\ndue_days = 7\n",
            "line 1",
            "has no `label`",
        ),
        (
            "[[step]]\nkey = \"call\"\nlabel = \"Call\"\ndue_days = -2\n",
            "line 4",
            "due_days is -2",
        ),
        (
            "[[step]]\nkey = \"call\"\nlabel = \"Call\"\ndue_days = 100000\n",
            "line 4",
            "0 to 3650",
        ),
        ("", "steps.toml", "no steps"),
        (
            "[[step]]\nkey = \"call\nlabel = \"Call\"\n",
            "line 2",
            "steps.toml",
        ),
    ];
    for (text, place, what) in cases {
        std::fs::write(&file, text).unwrap();
        let err = StepPath::from_config(&config_with(&file))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains(place), "{err}");
        assert!(err.contains(what), "{err}");
    }
    let missing = dir.path().join("nope.toml");
    let err = StepPath::from_config(&config_with(&missing))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope.toml") && err.contains("cannot read"),
        "{err}"
    );
}
