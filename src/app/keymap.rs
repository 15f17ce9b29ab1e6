//! The keymap: `assets/keymap.toml` (embedded) with the user's `keymap.toml` over it, action by
//! action. A key resolves in the pane's own section first, then `[list]`, then `[global]`.
//!
//! Checked at start, so a mistake is a message rather than a key that silently does nothing:
//! unknown sections and actions (in the user's file), keys that do not parse, and conflicts —
//! one key bound to two actions that could both fire in the same place. A pane's own section may
//! take a `[list]` key for itself (onboarding's `Space` ticks a step): that is an override, not a
//! conflict. Global keys cannot be taken by a pane, so `q`, `?`, `:` and the pane numbers work
//! everywhere.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

use super::keyspec::KeySpec;
use super::pane::{Command, PaneId};

/// The built-in keymap, as shipped in `assets/keymap.toml`.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");
const DEFAULT_NAME: &str = "the built-in keymap (assets/keymap.toml)";

/// The key that always quits, whatever the keymap says: in raw mode the terminal sends Ctrl-C as
/// a key rather than a signal, and nobody should be trapped in the app.
pub const QUIT_ALWAYS: KeySpec = KeySpec {
    code: KeyCode::Char('c'),
    modifiers: KeyModifiers::CONTROL,
};

const fn cmd(action: &'static str, description: &'static str, hint: bool) -> Command {
    Command {
        action,
        description,
        hint,
        changes: false,
    }
}

/// A command that changes the store (see [`Command::changes`]).
const fn change(action: &'static str, description: &'static str, hint: bool) -> Command {
    Command {
        changes: true,
        ..cmd(action, description, hint)
    }
}

/// `[global]`: what the app itself does, in every pane.
pub const GLOBAL_ACTIONS: &[Command] = &[
    cmd("help", "help: every key here", true),
    cmd(
        "command_line",
        "command line (:q, :pane, :import, :help)",
        true,
    ),
    cmd("quit", "quit (state is kept for next time)", true),
    cmd("next_pane", "next pane", false),
    cmd("prev_pane", "previous pane", false),
    cmd("pane_0", "show the Today pane", false),
    cmd("pane_1", "show the Search pane", false),
    cmd("pane_2", "show the Renewals pane", false),
    cmd("pane_3", "show the Onboarding pane", false),
    cmd("pane_4", "show the Escalations pane", false),
    cmd("suspend", "suspend to the shell (fg to return)", false),
];

/// `[list]`: moving about a list, sent to the pane as actions of these names.
pub const LIST_ACTIONS: &[Command] = &[
    cmd("up", "up one row", false),
    cmd("down", "down one row", false),
    cmd("top", "first row", false),
    cmd("bottom", "last row", false),
    cmd("page_up", "up a page", false),
    cmd("page_down", "down a page", false),
    cmd("half_page_up", "up half a page", false),
    cmd("half_page_down", "down half a page", false),
    cmd("select", "select the row for a bulk action", false),
    cmd("open", "open the row", true),
    cmd("back", "go back / close", false),
    cmd("filter", "search or filter", false),
    change("undo", "undo the last change", false),
];

/// `[member]`: the member view, over any pane.
pub const MEMBER_ACTIONS: &[Command] = &[
    // What a queue offers on a member, in the renewals pane's words and dialogs.
    change(
        "log_contact",
        "log a contact attempt: channel key, then outcome key",
        true,
    ),
    change(
        "log_contact_note",
        "log a contact attempt with a note",
        false,
    ),
    change("note", "add a note on the membership", false),
    change(
        "snooze",
        "set the next action date (YYYY-MM-DD or +N days)",
        false,
    ),
    change("assign", "assign in renewals (empty: unassign)", false),
    change(
        "escalate",
        "escalate: open an escalation about this member",
        true,
    ),
    change("add_to_onboarding", "add to onboarding", true),
];

/// Where a binding lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    List,
    Member,
    Pane(PaneId),
}

impl Scope {
    pub fn section(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::List => "list",
            Scope::Member => "member",
            Scope::Pane(p) => p.keymap_section(),
        }
    }
}

/// Where keys are being pressed: a pane, or the member view over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Pane(PaneId),
    Member,
}

impl Context {
    fn own_scope(self) -> Scope {
        match self {
            Context::Pane(p) => Scope::Pane(p),
            Context::Member => Scope::Member,
        }
    }
}

/// What a key does in a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub scope: Scope,
    pub action: &'static str,
}

#[derive(Debug, Clone)]
struct Binding {
    keys: Vec<KeySpec>,
    /// The file that set these keys, for messages.
    origin: String,
}

/// One keymap file's text and the name to use for it in messages.
pub struct KeymapSource<'a> {
    pub name: String,
    pub text: &'a str,
    /// The user's own file: unknown actions are errors. (The built-in file may bind actions a
    /// pane does not declare yet; those are dropped.)
    pub strict: bool,
}

#[derive(Debug, Default)]
pub struct Keymap {
    sections: HashMap<Scope, Vec<(&'static str, Binding)>>,
    /// Per context, every key that does something there, in the order help lists them.
    resolved: HashMap<Context, Vec<(KeySpec, Resolved)>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

type FileTable = BTreeMap<String, BTreeMap<Spanned<String>, Spanned<KeyList>>>;

impl Keymap {
    /// The built-in keymap with `keymap.toml` from the config directory over it.
    pub fn load_default(panes: &[(PaneId, &'static [Command])]) -> Result<Keymap> {
        let user_path = crate::cli::config_dir().map(|d| d.join("keymap.toml"));
        match user_path.filter(|p| p.exists()) {
            Some(path) => Keymap::load_with_user_file(&path, panes),
            None => Keymap::load(&[builtin_source()], panes),
        }
    }

    /// The built-in keymap alone (tests, and the reference in docs/keys.md).
    pub fn builtin(panes: &[(PaneId, &'static [Command])]) -> Result<Keymap> {
        Keymap::load(&[builtin_source()], panes)
    }

    pub fn load_with_user_file(
        path: &Path,
        panes: &[(PaneId, &'static [Command])],
    ) -> Result<Keymap> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the keymap {}", path.display()))?;
        let user = KeymapSource {
            name: path.display().to_string(),
            text: &text,
            strict: true,
        };
        Keymap::load(&[builtin_source(), user], panes)
    }

    /// Merges `sources` in order (later ones override per action) and checks the result.
    pub fn load(
        sources: &[KeymapSource],
        panes: &[(PaneId, &'static [Command])],
    ) -> Result<Keymap> {
        let mut keymap = Keymap::default();
        for source in sources {
            keymap.merge(source, panes)?;
        }
        keymap.check_reserved()?;
        for scope in keymap.sections.keys().copied().collect::<Vec<_>>() {
            keymap.check_within(scope)?;
        }
        let mut contexts: Vec<Context> = PaneId::ALL.iter().map(|&p| Context::Pane(p)).collect();
        contexts.push(Context::Member);
        for context in contexts {
            let resolved = keymap.resolve_context(context)?;
            keymap.resolved.insert(context, resolved);
        }
        Ok(keymap)
    }

    /// What `key` does in `context`, if anything.
    pub fn resolve(&self, context: Context, key: KeySpec) -> Option<Resolved> {
        self.resolved
            .get(&context)?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| *r)
    }

    /// Every key that fires `action` in `context` (global actions when `global`).
    pub fn keys_for(&self, context: Context, action: &str, global: bool) -> Vec<KeySpec> {
        self.resolved
            .get(&context)
            .into_iter()
            .flatten()
            .filter(|(_, r)| r.action == action && (r.scope == Scope::Global) == global)
            .map(|(k, _)| *k)
            .collect()
    }

    fn merge(
        &mut self,
        source: &KeymapSource,
        panes: &[(PaneId, &'static [Command])],
    ) -> Result<()> {
        let table: FileTable = toml::from_str(source.text)
            .map_err(|e| anyhow::anyhow!("{}: {}", source.name, e.to_string().trim_end()))?;
        for (section, entries) in table {
            let Some(scope) = scope_named(&section) else {
                bail!(
                    "{}: line {}: [{section}] is not a keymap section; the sections are \
                     global, list, member, today, search, renewals, onboarding, escalations",
                    source.name,
                    section_line(source.text, &section)
                );
            };
            let known = actions_of(scope, panes);
            for (action, keys) in entries {
                let line = line_of(source.text, action.span().start);
                let action_name = action.get_ref().as_str();
                let Some(action) = known.iter().copied().find(|a| *a == action_name) else {
                    if !source.strict {
                        continue; // an action this pane does not (yet) declare
                    }
                    bail!(
                        "{}: line {line}: [{section}] `{action_name}` is not an action there; \
                         the actions are: {}",
                        source.name,
                        known.join(", ")
                    );
                };
                let texts = match keys.into_inner() {
                    KeyList::One(k) => vec![k],
                    KeyList::Many(ks) => ks,
                };
                let mut parsed = Vec::new();
                for text in texts {
                    let key = KeySpec::parse(&text).map_err(|why| {
                        anyhow::anyhow!("{}: line {line}: [{section}] {action}: {why}", source.name)
                    })?;
                    if !parsed.contains(&key) {
                        parsed.push(key);
                    }
                }
                let bindings = self.sections.entry(scope).or_default();
                let binding = Binding {
                    keys: parsed,
                    origin: source.name.clone(),
                };
                match bindings.iter_mut().find(|(a, _)| *a == action) {
                    Some((_, existing)) => *existing = binding,
                    None => bindings.push((action, binding)),
                }
            }
        }
        Ok(())
    }

    fn check_reserved(&self) -> Result<()> {
        for (scope, bindings) in &self.sections {
            for (action, binding) in bindings {
                if binding.keys.contains(&QUIT_ALWAYS) {
                    bail!(
                        "{}: [{}] {action} is bound to ctrl-c, which always quits; pick another key",
                        binding.origin,
                        scope.section()
                    );
                }
            }
        }
        Ok(())
    }

    /// Two actions of one section on one key.
    fn check_within(&self, scope: Scope) -> Result<()> {
        let mut seen: HashMap<KeySpec, (&str, &Binding)> = HashMap::new();
        for (action, binding) in self.bindings(scope) {
            for key in &binding.keys {
                if let Some((other, other_binding)) = seen.insert(*key, (action, binding)) {
                    return Err(conflict(
                        *key,
                        (scope, other, other_binding),
                        (scope, action, binding),
                    ));
                }
            }
        }
        Ok(())
    }

    fn bindings(&self, scope: Scope) -> impl Iterator<Item = &(&'static str, Binding)> {
        self.sections.get(&scope).into_iter().flatten()
    }

    /// Every key live in `context`: global first, then the context's own section, then what
    /// is left of `[list]` (actions and keys the own section has not taken over).
    fn resolve_context(&self, context: Context) -> Result<Vec<(KeySpec, Resolved)>> {
        let own = context.own_scope();
        let mut out: Vec<(KeySpec, Resolved, Scope, &Binding)> = Vec::new();
        for (action, binding) in self.bindings(Scope::Global) {
            for key in &binding.keys {
                out.push((
                    *key,
                    resolved(Scope::Global, action),
                    Scope::Global,
                    binding,
                ));
            }
        }
        let globals = out.len();
        for scope in [own, Scope::List] {
            for (action, binding) in self.bindings(scope) {
                let overridden = scope == Scope::List
                    && self
                        .bindings(own)
                        .any(|(own_action, _)| own_action == action);
                if overridden {
                    continue;
                }
                for key in &binding.keys {
                    if let Some((_, r, s, b)) = out.iter().find(|(k, ..)| k == key) {
                        if *s == Scope::Global || scope == own {
                            return Err(conflict(
                                *key,
                                (*s, r.action, b),
                                (scope, action, binding),
                            ));
                        }
                        continue; // the own section took this [list] key
                    }
                    out.push((*key, resolved(scope, action), scope, binding));
                }
            }
        }
        // Help reads best with the context's own actions first, then lists, then globals.
        out.rotate_left(globals);
        Ok(out.into_iter().map(|(k, r, ..)| (k, r)).collect())
    }
}

fn resolved(scope: Scope, action: &'static str) -> Resolved {
    Resolved { scope, action }
}

fn conflict(
    key: KeySpec,
    first: (Scope, &str, &Binding),
    second: (Scope, &str, &Binding),
) -> anyhow::Error {
    anyhow::anyhow!(
        "keymap conflict: `{key}` is bound to both [{}] {} (in {}) and [{}] {} (in {}); \
         give one of them another key",
        first.0.section(),
        first.1,
        first.2.origin,
        second.0.section(),
        second.1,
        second.2.origin,
    )
}

fn builtin_source() -> KeymapSource<'static> {
    KeymapSource {
        name: DEFAULT_NAME.into(),
        text: DEFAULT_KEYMAP,
        strict: false,
    }
}

fn scope_named(section: &str) -> Option<Scope> {
    match section {
        "global" => Some(Scope::Global),
        "list" => Some(Scope::List),
        "member" => Some(Scope::Member),
        _ => PaneId::ALL
            .into_iter()
            .find(|p| p.keymap_section() == section)
            .map(Scope::Pane),
    }
}

/// The action names a section accepts. A pane's (and the member view's) section may also rebind
/// `[list]` actions for itself.
fn actions_of(scope: Scope, panes: &[(PaneId, &'static [Command])]) -> Vec<&'static str> {
    let names = |cs: &'static [Command]| cs.iter().map(|c| c.action).collect::<Vec<_>>();
    match scope {
        Scope::Global => names(GLOBAL_ACTIONS),
        Scope::List => names(LIST_ACTIONS),
        Scope::Member => [names(MEMBER_ACTIONS), names(LIST_ACTIONS)].concat(),
        Scope::Pane(p) => {
            let own = panes
                .iter()
                .filter(|(id, _)| *id == p)
                .flat_map(|(_, cs)| names(cs));
            own.chain(names(LIST_ACTIONS)).collect()
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn section_line(text: &str, section: &str) -> usize {
    let header = format!("[{section}]");
    text.lines()
        .position(|l| l.trim_start().starts_with(&header))
        .map_or(1, |i| i + 1)
}

/// A section's bindings as written: (action, keys).
pub type SectionBindings = Vec<(String, Vec<KeySpec>)>;

/// The built-in bindings as written, section by section (for docs/keys.md), including actions no
/// pane declares yet.
pub fn builtin_bindings() -> Vec<(String, SectionBindings)> {
    let table: FileTable = toml::from_str(DEFAULT_KEYMAP).expect("assets/keymap.toml parses");
    let order = [
        "global",
        "list",
        "member",
        "today",
        "search",
        "renewals",
        "onboarding",
        "escalations",
    ];
    let mut sections: Vec<_> = table
        .into_iter()
        .map(|(section, entries)| {
            let entries = entries
                .into_iter()
                .map(|(action, keys)| {
                    let texts = match keys.into_inner() {
                        KeyList::One(k) => vec![k],
                        KeyList::Many(ks) => ks,
                    };
                    let keys = texts
                        .iter()
                        .filter_map(|t| KeySpec::parse(t).ok())
                        .collect();
                    (action.into_inner(), keys)
                })
                .collect();
            (section, entries)
        })
        .collect();
    sections.sort_by_key(|(s, _)| order.iter().position(|o| o == s).unwrap_or(order.len()));
    sections
}

/// docs/keys.md: every built-in binding, section by section, with what it does (from the tables
/// above and the panes' own commands; an action a pane does not declare yet shows its name).
pub fn keys_markdown(panes: &[(PaneId, &'static [Command])]) -> String {
    let mut out = String::from(
        "# Keys\n\n\
         <!-- Generated from assets/keymap.toml: `UPDATE_KEYS_DOC=1 cargo test --test app_keys_doc`. -->\n\n\
         Every key can be changed: put a `keymap.toml` in your config directory \
         (`~/.config/rollcall/keymap.toml` on Linux) holding only the actions you change, e.g.\n\n\
         ```toml\n[renewals]\nlog_contact = \"L\"\n[list]\ndown = [\"j\", \"ctrl-n\"]\n```\n\n\
         A key resolves in the pane's own section first, then `[list]`, then `[global]`. A pane's \
         section may take a `[list]` key for itself (onboarding's `Space` ticks a step); nothing \
         may take a `[global]` key. rollcall refuses to start on a conflict and says which two \
         bindings clash. `ctrl-c` always quits. `?` shows the keys of the pane you are in.\n",
    );
    let describe = |section: &str, action: &str| -> String {
        let tables: &[(&str, &[Command])] = &[
            ("global", GLOBAL_ACTIONS),
            ("list", LIST_ACTIONS),
            ("member", MEMBER_ACTIONS),
        ];
        let pane_commands = panes
            .iter()
            .filter(|(p, _)| p.keymap_section() == section)
            .flat_map(|(_, cs)| cs.iter());
        tables
            .iter()
            .filter(|(s, _)| *s == section || section != "global" && *s == "list")
            .flat_map(|(_, cs)| cs.iter())
            .chain(pane_commands)
            .find(|c| c.action == action)
            .map_or_else(|| action.replace('_', " "), |c| c.description.to_owned())
    };
    // Each section in the order help shows it: the tables' order, or the pane's commands'.
    let rank = |section: &str, action: &str| -> usize {
        let declared: Vec<&str> = match section {
            "global" => GLOBAL_ACTIONS.iter().map(|c| c.action).collect(),
            "list" => LIST_ACTIONS.iter().map(|c| c.action).collect(),
            "member" => MEMBER_ACTIONS.iter().map(|c| c.action).collect(),
            _ => panes
                .iter()
                .filter(|(p, _)| p.keymap_section() == section)
                .flat_map(|(_, cs)| cs.iter().map(|c| c.action))
                .collect(),
        };
        declared
            .iter()
            .position(|a| *a == action)
            .unwrap_or(usize::MAX)
    };
    for (section, mut entries) in builtin_bindings() {
        entries.sort_by_key(|(action, _)| rank(&section, action));
        let title = match section.as_str() {
            "global" => "Everywhere".to_owned(),
            "list" => "Lists (every pane)".to_owned(),
            "member" => "Member view".to_owned(),
            other => scope_named(other).map_or(other.to_owned(), |s| match s {
                Scope::Pane(p) => format!("{} pane", p.title()),
                _ => other.to_owned(),
            }),
        };
        out.push_str(&format!("\n## {title} (`[{section}]`)\n\n"));
        if entries.is_empty() {
            out.push_str("Nothing of its own yet: the list and global keys apply.\n");
            continue;
        }
        out.push_str("| Keys | Action | What it does |\n|---|---|---|\n");
        for (action, keys) in &entries {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            out.push_str(&format!(
                "| {} | {action} | {} |\n",
                keys.join(" "),
                describe(&section, action)
            ));
        }
        if section == "global" {
            out.push_str(&format!(
                "| `{QUIT_ALWAYS}` | | quit, from anywhere (fixed) |\n"
            ));
        }
    }
    out.push_str(
        "\n## Command line (`:`)\n\n\
         | Command | What it does |\n|---|---|\n\
         | `:q`, `:quit` | quit |\n\
         | `:pane NAME` | show a pane by name, the start of one, or its number (`:pane ren`, `:pane 2`) |\n\
         | `:import PATH` | import a CRM export with a progress gauge; `Esc` cancels, nothing is changed |\n\
         | `:import --older-export PATH` | import an export that looks older than what the database holds (refused without it) |\n\
         | `:help` | this help |\n\n\
         On the command line: `Enter` runs, `Esc` cancels, `Up`/`Down` recall earlier commands, \
         `Tab` completes the command's name.\n\n\
         ## Text fields (fixed)\n\n\
         Every text field (prompts, the escalation form, the search and command lines) edits with \
         the same keys, after readline:\n\n\
         | Keys | What it does |\n|---|---|\n\
         | `ctrl-u` | delete to the start of the line |\n\
         | `ctrl-w` `alt-Backspace` | delete the word before the cursor |\n\
         | `ctrl-k` | delete to the end of the line |\n\
         | `ctrl-a` `Home` / `ctrl-e` `End` | start / end of the line |\n\
         | `Tab` | complete (a local party, a region, your own name in an assign box); never types a tab |\n\
         | `Enter` / `Esc` | submit / cancel |\n\n\
         A box that asks for a new value (an assignee) starts empty; one that edits a value in \
         place (a filter, a date) starts with it.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENEWALS: &[Command] = &[cmd("log_contact", "log a contact attempt", true)];

    fn panes() -> Vec<(PaneId, &'static [Command])> {
        vec![(PaneId::Renewals, RENEWALS)]
    }

    fn user(text: &str) -> Result<Keymap> {
        let user = KeymapSource {
            name: "/home/ann/.config/rollcall/keymap.toml".into(),
            text,
            strict: true,
        };
        Keymap::load(&[builtin_source(), user], &panes())
    }

    #[test]
    fn the_built_in_keymap_loads_and_resolves_in_order() {
        let km = Keymap::load(&[builtin_source()], &panes()).unwrap();
        let r = |c, k: &str| km.resolve(c, KeySpec::parse(k).unwrap());
        assert_eq!(
            r(Context::Pane(PaneId::Renewals), "c"),
            Some(resolved(Scope::Pane(PaneId::Renewals), "log_contact"))
        );
        assert_eq!(
            r(Context::Pane(PaneId::Renewals), "j"),
            Some(resolved(Scope::List, "down"))
        );
        assert_eq!(
            r(Context::Pane(PaneId::Search), "q"),
            Some(resolved(Scope::Global, "quit"))
        );
        // Renewals does not declare `snooze` in this test: the built-in binding is dropped.
        assert_eq!(r(Context::Pane(PaneId::Renewals), "s"), None);
    }

    #[test]
    fn the_built_in_keymap_has_no_conflict_once_every_pane_declares_its_actions() {
        let mut panes: Vec<(PaneId, &'static [Command])> = Vec::new();
        for (section, entries) in builtin_bindings() {
            let Some(Scope::Pane(id)) = scope_named(&section) else {
                continue;
            };
            let commands: Vec<Command> = entries
                .into_iter()
                .map(|(action, _)| cmd(Box::leak(action.into_boxed_str()), "", true))
                .collect();
            panes.push((id, Box::leak(commands.into_boxed_slice())));
        }
        let km = Keymap::builtin(&panes).unwrap();
        let onboarding = Context::Pane(PaneId::Onboarding);
        let space = KeySpec::parse("Space").unwrap();
        assert_eq!(km.resolve(onboarding, space).unwrap().action, "tick_step");
        assert_eq!(
            km.keys_for(onboarding, "mark", false),
            vec![KeySpec::parse("v").unwrap()]
        );
        assert_eq!(
            km.resolve(Context::Pane(PaneId::Renewals), space)
                .unwrap()
                .action,
            "select"
        );
    }

    #[test]
    fn the_user_file_overrides_per_action() {
        let km =
            user("[renewals]\nlog_contact = \"L\"\n[list]\ndown = [\"j\", \"ctrl-n\"]\n").unwrap();
        let ctx = Context::Pane(PaneId::Renewals);
        assert_eq!(
            km.keys_for(ctx, "log_contact", false),
            vec![KeySpec::parse("L").unwrap()]
        );
        assert_eq!(km.resolve(ctx, KeySpec::parse("c").unwrap()), None);
        assert_eq!(km.keys_for(ctx, "down", false).len(), 2);
        // Untouched actions keep their built-in keys.
        assert_eq!(km.keys_for(ctx, "up", false).len(), 2);
    }

    #[test]
    fn a_pane_section_may_take_a_list_key_but_not_a_global_one() {
        let km = user("[renewals]\nlog_contact = \"j\"\n").unwrap();
        let ctx = Context::Pane(PaneId::Renewals);
        assert_eq!(
            km.resolve(ctx, KeySpec::parse("j").unwrap())
                .unwrap()
                .action,
            "log_contact"
        );
        // Still reachable by its other key, and j moves down elsewhere.
        assert_eq!(
            km.keys_for(ctx, "down", false),
            vec![KeySpec::parse("Down").unwrap()]
        );
        assert_eq!(
            km.resolve(Context::Pane(PaneId::Search), KeySpec::parse("j").unwrap())
                .unwrap()
                .action,
            "down"
        );
        let err = user("[renewals]\nlog_contact = \"q\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`q` is bound to both [global] quit"), "{err}");
        assert!(err.contains("[renewals] log_contact"), "{err}");
        assert!(
            err.contains("/home/ann/.config/rollcall/keymap.toml"),
            "{err}"
        );
        assert!(err.contains("built-in keymap"), "{err}");
    }

    #[test]
    fn conflicts_in_one_section_and_between_list_and_global_are_refused() {
        let err = user("[list]\ntop = \"j\"\n").unwrap_err().to_string();
        assert!(err.contains("`j` is bound to both [list] down"), "{err}");
        assert!(err.contains("[list] top"), "{err}");
        let err = user("[list]\ntop = \"?\"\n").unwrap_err().to_string();
        assert!(
            err.contains("[global] help") && err.contains("[list] top"),
            "{err}"
        );
        let err = user("[global]\nquit = \"ctrl-c\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("always quits"), "{err}");
    }

    #[test]
    fn unknown_names_and_bad_keys_say_where() {
        let err = user("\n[renewals]\nlog_contacts = \"c\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keymap.toml: line 3: [renewals] `log_contacts`"),
            "{err}"
        );
        assert!(err.contains("log_contact"), "{err}");
        let err = user("[lists]\nup = \"k\"\n").unwrap_err().to_string();
        assert!(
            err.contains("line 1: [lists] is not a keymap section"),
            "{err}"
        );
        let err = user("[list]\n\nup = \"ctrl-\"\n").unwrap_err().to_string();
        assert!(
            err.contains("line 3: [list] up: `ctrl-` is not a key"),
            "{err}"
        );
        let err = user("[list]\nup = 3\n").unwrap_err().to_string();
        assert!(
            err.contains("keymap.toml") && err.contains("line 2"),
            "{err}"
        );
    }
}
