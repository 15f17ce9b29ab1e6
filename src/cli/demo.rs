//! `rollcall demo`: build a demo database from a generated export and open the app on it.
//!
//! The demo database is separate from the real one (`demo.db` in the data directory unless
//! `--demo-db` says otherwise) and is rebuilt from scratch on every run, through the same
//! `import_file` a real export goes through.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags};

use super::import_cmd::summary_text;
use super::output::print_text;
use super::{Ctx, data_dir};
use crate::export::destination::output_target;
use crate::export::pending_file::PendingFile;
use crate::import::generate::{DEFAULT_SEED, ExportFormat, GenerateOptions, write_export};
use crate::import::{ImportOptions, import_file};
use crate::storage::{OpenMode, Store, database_files};

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
    let demo_path = match args.demo_db {
        Some(p) => p,
        None => data_dir()?.join("demo.db"),
    };
    // The demo database is an output like any other: never the real database or its files.
    output_target(&demo_path, &ctx.db_path)?;
    remove_old_demo(&demo_path)?;
    let mut store = Store::open(&demo_path, OpenMode::ReadWrite)?;
    let export = demo_path.with_extension("export.csv");
    let built = build(&mut store, ctx, &export, args.members, args.seed);
    let _ = std::fs::remove_file(&export);
    let report = built?;
    print_text(&summary_text(&report, &demo_path.display().to_string()))?;
    if args.build_only {
        return Ok(ExitCode::SUCCESS);
    }
    drop(store);
    let demo_ctx = Ctx {
        db_path: demo_path,
        ..ctx.clone()
    };
    crate::app::run(&demo_ctx)
}

fn build(
    store: &mut Store,
    ctx: &Ctx,
    export: &Path,
    members: u64,
    seed: u64,
) -> anyhow::Result<crate::import::ImportReport> {
    let options = GenerateOptions {
        members,
        seed,
        format: ExportFormat::Civicrm,
        today: ctx.clock.today,
        advance_days: 0,
    };
    let mut file = PendingFile::create(export, &ctx.db_path)?;
    write_export(&mut file, &options)
        .with_context(|| format!("{}: cannot write the demo export", export.display()))?;
    file.put_in_place()?;
    let import = ImportOptions {
        source: Some(DEMO_SOURCE.to_owned()),
        ..ImportOptions::default()
    };
    import_file(
        store,
        &ctx.clock,
        export,
        &import,
        &mut |_| {},
        &AtomicBool::new(false),
    )
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
    let foreign: i64 = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|conn| {
            conn.query_row(
                "SELECT (SELECT COUNT(*) FROM contacts WHERE source <> ?1)
                      + (SELECT COUNT(*) FROM import_runs WHERE source <> ?1)",
                [DEMO_SOURCE],
                |r| r.get(0),
            )
        })
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
