use super::placeholder::Placeholder;
use crate::app::pane::{Pane, PaneId};

pub fn pane() -> Box<dyn Pane> {
    Box::new(Placeholder::new(
        PaneId::Escalations,
        "Member concerns, complaints and problems, each with an owner and a deadline.",
    ))
}
