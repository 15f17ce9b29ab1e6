use super::placeholder::Placeholder;
use crate::app::pane::{Pane, PaneId};

pub fn pane() -> Box<dyn Pane> {
    Box::new(Placeholder::new(
        PaneId::Today,
        "Since the last import: who joined, renewed, lapsed; your work for today; team figures.",
    ))
}
