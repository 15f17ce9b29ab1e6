use super::placeholder::Placeholder;
use crate::app::pane::{Pane, PaneId};

pub fn pane() -> Box<dyn Pane> {
    Box::new(Placeholder::new(
        PaneId::Renewals,
        "Memberships due to renew in the next 30 days and those lapsed in the last 90.",
    ))
}
