use super::placeholder::Placeholder;
use crate::app::pane::{Pane, PaneId};

pub fn pane() -> Box<dyn Pane> {
    Box::new(Placeholder::new(
        PaneId::Search,
        "Find a member by name, email, postcode, phone or id.",
    ))
}
