use super::placeholder::Placeholder;
use crate::app::pane::{Pane, PaneId};

pub fn pane() -> Box<dyn Pane> {
    Box::new(Placeholder::new(
        PaneId::Onboarding,
        "New members and the welcome steps each is still waiting for.",
    ))
}
