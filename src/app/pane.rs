//! The contract every pane fulfils. A pane owns its state, handles its own actions and draws
//! itself; what it shares with the rest of the app comes in through [`Shared`].

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::db::{DbReply, DbWorker};
use super::theme::Theme;
use crate::Clock;
use crate::config::Config;

/// Wakes the event loop from another thread (a search result, a finished job) so it redraws.
pub type Waker = std::sync::Arc<dyn Fn() + Send + Sync>;

/// The panes, in the order of their number keys (`0` Today, `1` Search, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaneId {
    Today,
    Search,
    Renewals,
    Onboarding,
    Escalations,
}

impl PaneId {
    pub const ALL: [PaneId; 5] = [
        PaneId::Today,
        PaneId::Search,
        PaneId::Renewals,
        PaneId::Onboarding,
        PaneId::Escalations,
    ];

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Today => "Today",
            PaneId::Search => "Search",
            PaneId::Renewals => "Renewals",
            PaneId::Onboarding => "Onboarding",
            PaneId::Escalations => "Escalations",
        }
    }

    /// The section of the keymap TOML that holds this pane's own bindings.
    pub fn keymap_section(self) -> &'static str {
        match self {
            PaneId::Today => "today",
            PaneId::Search => "search",
            PaneId::Renewals => "renewals",
            PaneId::Onboarding => "onboarding",
            PaneId::Escalations => "escalations",
        }
    }
}

/// One thing a pane can do, named as in the keymap. The `?` help and the key-hint line are both
/// built from these lists plus the keymap, so they cannot drift from what the keys really do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    /// The action's name in the keymap section, e.g. `log_contact`.
    pub action: &'static str,
    /// What it does, for help: "log a contact attempt".
    pub description: &'static str,
    /// Shown in the key-hint line at the bottom (keep to the few most used).
    pub hint: bool,
    /// It changes the store: where nothing may be changed (`--read-only`, a viewer) help and
    /// the hint line leave it out, and the pane refuses it saying why.
    pub changes: bool,
}

/// What reaches a pane: an action the keymap resolved, or a raw key while the pane is taking text
/// (a dialog, a filter, an editor: see [`Pane::wants_raw_keys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneInput {
    Action(&'static str),
    Key(KeyEvent),
}

/// What a pane asks of the app after handling input or a reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Effect {
    #[default]
    None,
    /// Open the member view on this contact (rollcall id).
    OpenMember(i64),
    /// Start a new escalation filled in from this member (contact id, membership id).
    Escalate {
        contact_id: i64,
        membership_id: Option<i64>,
    },
    /// Add this contact to the onboarding queue by hand (from the member view).
    AddToOnboarding(i64),
    SwitchPane(PaneId),
    /// A one-line message for the status bar (no personal data: it may be read over a shoulder,
    /// but it is never logged).
    Status(String),
    /// The store changed: other panes should refresh when next shown.
    DataChanged,
    /// Open the letters dialog on these members (see [`super::letters`]).
    Letters(super::letters::LetterRequest),
}

/// What panes share, passed in explicitly on every call.
pub struct Shared<'a> {
    pub clock: &'a Clock,
    pub theme: &'a Theme,
    pub db: &'a DbWorker,
    pub config: &'a Config,
    /// For panes that run their own background threads (search).
    pub waker: &'a Waker,
    /// What the person at this window may do: panes refuse what they may not up front, saying
    /// why (`--read-only`, a viewer's role).
    pub access: &'a super::access::Access,
    /// The current staff list, to pick whom to assign work to (empty: no staff list, so any
    /// name goes).
    pub staff: &'a [super::widgets::text_prompt::Choice],
}

impl Shared<'_> {
    /// Whom work may be assigned to, the person at this window first (so that `Tab` then
    /// `Enter` takes it yourself); empty when there is no staff list.
    pub fn assignees(&self) -> Vec<super::widgets::text_prompt::Choice> {
        let mut staff = self.staff.to_vec();
        staff.sort_by_key(|c| c.value != self.clock.user);
        staff
    }
}

pub trait Pane {
    fn id(&self) -> PaneId;

    /// Everything this pane can do, in the order help lists it.
    fn commands(&self) -> &'static [Command];

    /// Reload from the store (through `shared.db`, never blocking). Called when the pane is first
    /// shown, after an import, and after another pane changed data.
    fn refresh(&mut self, shared: &Shared);

    /// Handle one input. Common list actions (`up`, `down`, `top`, `bottom`, `page_up`,
    /// `page_down`, `half_page_down`, `half_page_up`, `select`, `open`, `back`, `filter`) arrive as
    /// actions too; a pane ignores those it has no use for.
    fn handle(&mut self, input: PaneInput, shared: &Shared) -> Effect;

    /// A reply to a job this pane sent to the DB worker.
    fn on_reply(&mut self, reply: DbReply, shared: &Shared) -> Effect;

    fn draw(&mut self, frame: &mut Frame, area: Rect, shared: &Shared);

    /// True while the pane is taking text or a dialog is open: every key then reaches the pane raw
    /// (Esc included), and global keys like `q` do not fire.
    fn wants_raw_keys(&self) -> bool {
        false
    }

    /// Serialisable state to restore at next start (filters, selection). JSON.
    fn save_state(&self) -> Option<String> {
        None
    }

    fn restore_state(&mut self, _state: &str) {}

    /// The escalations pane opens its editor for a new escalation about this member; the app
    /// calls this after switching to it on [`Effect::Escalate`]. Other panes ignore it.
    fn start_escalation(
        &mut self,
        _contact_id: i64,
        _membership_id: Option<i64>,
        _shared: &Shared,
    ) {
    }

    /// The member view's actions on a member (log a contact, note, snooze, assign) open the
    /// renewals pane's own dialogs on this membership; the app then sends keys to this pane while
    /// it [`Self::wants_raw_keys`] and draws [`Self::draw_dialog`] over the member view. Other
    /// panes ignore it.
    fn act_for_member(
        &mut self,
        _action: &str,
        _member: &crate::domain::renewal::QueueRow,
        _shared: &Shared,
    ) -> Effect {
        Effect::None
    }

    /// Draws only the open dialog (for [`Self::act_for_member`]); nothing when none is open.
    fn draw_dialog(&mut self, _frame: &mut Frame, _area: Rect, _shared: &Shared) {}

    /// The onboarding pane adds this contact by hand on [`Effect::AddToOnboarding`].
    fn add_to_onboarding(&mut self, _contact_id: i64, _shared: &Shared) -> Effect {
        Effect::None
    }
}
