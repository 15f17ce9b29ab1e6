//! The panes. Each module exposes `pane() -> Box<dyn Pane>`; the app builds them in `PaneId` order.

pub mod escalations;
pub mod onboarding;
pub mod placeholder;
pub mod renewals;
pub mod search;
pub mod today;

use super::pane::Pane;

/// Every pane, in `PaneId::ALL` order.
pub fn all() -> Vec<Box<dyn Pane>> {
    vec![
        today::pane(),
        search::pane(),
        renewals::pane(),
        onboarding::pane(),
        escalations::pane(),
    ]
}
