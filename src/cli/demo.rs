//! `rollcall demo`: build a demo database from generated exports and open the app on it.
//!
//! The demo database is separate from the real one (`demo.db` in the data directory unless
//! `--demo-db` says otherwise) and is rebuilt from scratch on every run, through the same
//! `import_file` a real export goes through.
//!
//! It opens on a morning with history, not on a database whose every Today figure is 0: the CRM
//! as it was [`HISTORY_DAYS`] days ago is imported first; a colleague, [`DEMO_STAFF`], works it
//! through the storage API as staff do in the app (contact attempts with their outcomes, a note,
//! a snooze, an escalation, onboarding ticks, some of it assigned to you); then this morning's
//! export (the same CRM [`HISTORY_DAYS`] days on: renewals, joiners, a few gone) is imported.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, bail};

use super::import_cmd::summary_text;
use super::output::print_text;
use super::{Ctx, data_dir};
use crate::Clock;
use crate::config::Config;
use crate::domain::escalation::{Category, Priority};
use crate::domain::onboarding::StepPath;
use crate::domain::renewal::{Channel, Outcome, Windows};
use crate::export::destination::output_target;
use crate::export::pending_file::PendingFile;
use crate::import::generate::{DEFAULT_SEED, ExportFormat, GenerateOptions, write_export};
use crate::import::{ImportOptions, ImportReport, import_file};
use crate::storage::Location;
use crate::storage::renewals::{NewAttempt, Target};
use crate::storage::{OpenMode, Store, database_files, escalations, onboarding, renewals};

/// The colleague whose work the demo's history holds.
pub const DEMO_STAFF: &str = "ffion";

/// How long before the as-of date the demo's first export was taken.
pub const HISTORY_DAYS: u32 = 30;

/// The source name of demo data: how a demo database is recognised before it is replaced.
pub const DEMO_SOURCE: &str = "demo";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many people the demo CRM holds
    #[arg(long, value_name = "N", default_value_t = 3000, value_parser = super::generate::members_arg)]
    pub members: u64,
    /// The seed of the generated export
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Build the demo database and print the import summary, but do not open the app
    #[arg(long)]
    pub build_only: bool,
    /// Where to build it [default: demo.db in the data directory]. Never your real database.
    #[arg(long, value_name = "PATH")]
    pub demo_db: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    if ctx.read_only {
        bail!("`rollcall demo` builds a database; it cannot run with --read-only");
    }
    if ctx.db.team().is_some() && args.demo_db.is_none() {
        return team_demo(ctx, &args);
    }
    let demo_path = match &args.demo_db {
        Some(p) => p.clone(),
        None => data_dir()?.join("demo.db"),
    };
    // The demo database is an output like any other: never the real database or its files.
    output_target(&demo_path, &ctx.db)?;
    remove_old_demo(&demo_path)?;
    let mut store = Store::open(&demo_path, OpenMode::ReadWrite)?;
    let export = demo_path.with_extension("export.csv");
    build_and_say(
        &mut store,
        ctx,
        &export,
        &args,
        &demo_path.display().to_string(),
    )?;
    if args.build_only {
        return Ok(ExitCode::SUCCESS);
    }
    drop(store);
    let demo_ctx = Ctx {
        db: Location::File(demo_path),
        ..ctx.clone()
    };
    crate::app::run(&demo_ctx)
}

/// `rollcall --db postgresql://… demo`: the demo built in a team database, for trying the team
/// engine out. Only an empty one (just after `team init`): demo members in a database that
/// holds real ones would be mixed up with them.
fn team_demo(ctx: &Ctx, args: &Args) -> anyhow::Result<ExitCode> {
    let mut store = ctx.open_store()?;
    if crate::storage::holds_contacts(&store)? {
        bail!(
            "{}: holds members already; the demo goes only into an empty team database (make a \
             new one with `createdb` and `rollcall team init`)",
            ctx.db
        );
    }
    // The generated export is written owner-only (PendingFile) and removed after.
    let export =
        std::env::temp_dir().join(format!("rollcall-team-demo-{}.csv", std::process::id()));
    build_and_say(&mut store, ctx, &export, args, &ctx.db.to_string())?;
    if args.build_only {
        return Ok(ExitCode::SUCCESS);
    }
    drop(store);
    crate::app::run(ctx)
}

/// Builds the demo through the generated `export` (removed after, whatever happens) and says
/// what each import did to `db`.
fn build_and_say(
    store: &mut Store,
    ctx: &Ctx,
    export: &Path,
    args: &Args,
    db: &str,
) -> anyhow::Result<()> {
    let built = build(store, ctx, export, args.members, args.seed);
    let _ = std::fs::remove_file(export);
    let history = built?;
    print_text(&format!(
        "{}\n{}\n{}",
        summary_text(&history.first, db),
        history.work,
        summary_text(&history.morning, db)
    ))
}

/// What the demo was built from: the first import, the work done on it, and this morning's.
struct History {
    first: ImportReport,
    /// One line saying what the colleague did.
    work: String,
    morning: ImportReport,
}

fn build(
    store: &mut Store,
    ctx: &Ctx,
    export: &Path,
    members: u64,
    seed: u64,
) -> anyhow::Result<History> {
    let first_day = ctx
        .clock
        .today
        .checked_sub_days(chrono::Days::new(HISTORY_DAYS.into()))
        .context("the as-of date is too early for a demo with history")?;
    let generate = |advance_days| GenerateOptions {
        members,
        seed,
        format: ExportFormat::Civicrm,
        today: first_day,
        advance_days,
        plant: false,
    };
    let first = import_generated(
        store,
        &Clock::fixed(first_day, DEMO_STAFF),
        export,
        &generate(0),
        &ctx.db,
    )?;
    add_demo_staff(store, ctx)?;
    let work = log_work(store, ctx, first_day)?;
    let morning = import_generated(store, &ctx.clock, export, &generate(HISTORY_DAYS), &ctx.db)?;
    Ok(History {
        first,
        work,
        morning,
    })
}

/// On the demo's own file, a staff list of two, you (an admin) and [`DEMO_STAFF`] (an
/// officer), so that assigning picks from a list as it would in a team. Not on a team
/// database, where each staff member is a login on the server, and not when your user name
/// cannot be a login (then the list stays empty and any name may be assigned).
fn add_demo_staff(store: &mut Store, ctx: &Ctx) -> anyhow::Result<()> {
    use crate::domain::staff::{Role, Scope, check_login};
    use crate::storage::staff::{NewStaff, add};
    let me = &ctx.clock.user;
    if store.engine() != crate::storage::sql::Engine::Sqlite
        || check_login(me).is_err()
        || me == DEMO_STAFF
    {
        return Ok(());
    }
    for (login, name, role) in [
        (me.as_str(), me.as_str(), Role::Admin),
        (DEMO_STAFF, "Ffion Hughes", Role::Officer),
    ] {
        let new = NewStaff {
            login: login.to_owned(),
            name: name.to_owned(),
            role,
            scope: Scope::default(),
        };
        add(store, &ctx.clock, &new)?;
    }
    Ok(())
}

/// Writes a generated export to `export` (owner-only) and imports it as the demo source.
fn import_generated(
    store: &mut Store,
    clock: &Clock,
    export: &Path,
    options: &GenerateOptions,
    real_db: &Location,
) -> anyhow::Result<ImportReport> {
    let mut file = PendingFile::create(export, real_db)?;
    write_export(&mut file, options)
        .with_context(|| format!("{}: cannot write the demo export", export.display()))?;
    file.put_in_place()?;
    let import = ImportOptions {
        source: Some(DEMO_SOURCE.to_owned()),
        ..ImportOptions::default()
    };
    import_file(
        store,
        clock,
        export,
        &import,
        &mut |_| {},
        &AtomicBool::new(false),
    )
}

/// The outcomes of the colleague's calls and emails, in turn: enough promises and messages for
/// renewals to be credited, and the refusals and misses a real list holds.
const OUTCOMES: [(Channel, Outcome); 8] = [
    (Channel::Phone, Outcome::WillRenew),
    (Channel::Email, Outcome::LeftMessage),
    (Channel::Phone, Outcome::NoAnswer),
    (Channel::Phone, Outcome::Declined),
    (Channel::Phone, Outcome::LeftMessage),
    (Channel::Email, Outcome::LeftMessage),
    (Channel::Phone, Outcome::WrongNumber),
    (Channel::Phone, Outcome::WillRenew),
];

/// A colleague's work on the first import, a few days after it, through the same storage calls
/// the panes make: every change audited under [`DEMO_STAFF`]. Some of it is assigned to the
/// person running the demo (when their name is a valid staff name), so that their own "my work"
/// on Today has something in it. Returns what was done, in one line.
fn log_work(store: &mut Store, ctx: &Ctx, first_day: chrono::NaiveDate) -> anyhow::Result<String> {
    let config = Config::load_default()?;
    let day = first_day + chrono::Days::new(2);
    let clock = Clock::fixed(day, DEMO_STAFF);
    let you = crate::domain::check_staff_name(&ctx.clock.user)
        .ok()
        .map(str::to_owned);

    let queue = renewals::queue(&store.conn, day, Windows::from(&config.renewals), None)?;
    let targets: Vec<Target> = queue
        .iter()
        .filter(|r| !r.auto_renew)
        .take(40)
        .map(Target::from)
        .collect();
    for (i, target) in targets.iter().enumerate() {
        let (channel, outcome) = OUTCOMES[i % OUTCOMES.len()];
        let attempt = NewAttempt {
            channel,
            outcome,
            note: String::new(),
        };
        renewals::log_attempts(store, &clock, &[*target], &attempt)?;
    }
    if let Some(first) = targets.first() {
        renewals::add_note(store, &clock, *first, "Asked for a call back after six")?;
    }
    if let [.., follow_up] = targets.as_slice() {
        // Comes due this morning: a follow-up on Today.
        renewals::snooze(store, &clock, &[*follow_up], Some(ctx.clock.today))?;
        renewals::assign(store, &clock, &[follow_up.contact_id], you.as_deref())?;
    }
    let escalation = queue.iter().find(|r| r.end_date < day);
    if let Some(row) = escalation {
        let new = escalations::NewEscalation {
            contact_id: Some(row.contact_id),
            membership_id: Some(row.membership_id),
            category: Category::RenewalPayment,
            priority: Priority::High,
            title: "Direct debit failed twice".to_owned(),
            description: "Bank says the mandate was cancelled; member wants to keep paying."
                .to_owned(),
            assignee: you.clone(),
        };
        escalations::open(store, &clock, &config.escalations, &new)?;
    }

    let path = StepPath::from_config(&config.onboarding)?;
    let mut newcomers = onboarding::load_queue(store, &clock, &config.onboarding)?;
    newcomers.sort_by_key(|e| (e.anchor, e.contact_id));
    let welcomed: Vec<i64> = newcomers.iter().take(6).map(|e| e.contact_id).collect();
    let mut ticks = 0;
    if let Some(first_step) = path.get(0).map(|s| s.key.clone())
        && !welcomed.is_empty()
    {
        onboarding::tick(store, &clock, &path, &first_step, &welcomed)?;
        ticks = welcomed.len();
    }
    if let Some(you) = &you {
        for entry in newcomers.iter().skip(6).take(3) {
            onboarding::assign(store, &clock, entry.contact_id, Some(you))?;
        }
    }
    Ok(format!(
        "History: on {day} {DEMO_STAFF} logged {} contact attempt(s), a note, {} escalation \
         and {ticks} onboarding step(s){}.\n",
        targets.len(),
        if escalation.is_some() { "an" } else { "no" },
        match &you {
            Some(you) => format!(", and assigned some of it to {you}"),
            None => String::new(),
        }
    ))
}

/// Deletes the previous demo database, after checking that it is one: every contact and every
/// import in it came from the demo.
fn remove_old_demo(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let refuse = |why: &str| {
        anyhow::anyhow!(
            "{}: {why}, so it is not replaced; move it away or pass --demo-db with another path",
            path.display()
        )
    };
    let foreign = crate::storage::rows_not_from(path, DEMO_SOURCE)
        .map_err(|_| refuse("it is not a rollcall demo database"))?;
    if foreign > 0 {
        return Err(refuse("it holds data that did not come from the demo"));
    }
    for file in database_files(path) {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot remove the old demo database {}", path.display())
                });
            }
        }
    }
    Ok(())
}
