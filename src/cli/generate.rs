//! `rollcall generate`: write a realistic synthetic CRM export to stdout or a file.

use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Ctx;
use crate::export::pending_file::PendingFile;
use crate::import::generate::{DEFAULT_SEED, ExportFormat, GenerateOptions, write_export};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many people the CRM holds on --today (about 5% have two memberships)
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub members: u64,
    /// The same seed (and --today) always gives the same file
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Which CRM's export to imitate
    #[arg(long, value_enum, default_value_t = FormatArg::Civicrm)]
    pub format: FormatArg,
    /// Show the CRM as it will be DAYS after --today: the same members, some renewed, some new,
    /// a few gone (a later export, for trying a re-import)
    #[arg(long, value_name = "DAYS", default_value_t = 0)]
    pub advance: u32,
    /// Write to FILE (owner-only) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Civicrm,
    Nationbuilder,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let options = GenerateOptions {
        members: args.members,
        seed: args.seed,
        format: match args.format {
            FormatArg::Civicrm => ExportFormat::Civicrm,
            FormatArg::Nationbuilder => ExportFormat::Nationbuilder,
        },
        today: ctx.clock.today,
        advance_days: args.advance,
    };
    let result = match &args.output {
        Some(path) => {
            let mut file = PendingFile::create(path, &ctx.db_path)?;
            write_export(&mut file, &options)
                .with_context(|| format!("writing {}", path.display()))?;
            file.put_in_place().map(|_| ())
        }
        None => {
            let stdout = io::stdout().lock();
            match write_export(&mut BufWriter::with_capacity(1 << 20, stdout), &options) {
                // `rollcall generate | head` is not an error.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other
                    .map(|_| ())
                    .context("cannot write the export to stdout"),
            }
        }
    };
    result?;
    Ok(ExitCode::SUCCESS)
}
