//! `rollcall generate`: write a realistic synthetic CRM export to stdout or a file.

use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::Ctx;
use super::output::{note, stdout_error};
use crate::export::pending_file::PendingFile;
use crate::import::generate::{
    DEFAULT_SEED, ExportFormat, GenerateOptions, MAX_ADVANCE_DAYS, MAX_MEMBERS, write_export,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many people the CRM holds on --today, 1 to 2000000 (about 5% have two memberships)
    #[arg(long, value_name = "N", default_value_t = 3000, value_parser = members_arg,
          allow_negative_numbers = true)]
    pub members: u64,
    /// The same seed (and --today) always gives the same file
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Which CRM's export to imitate
    #[arg(long, value_enum, default_value_t = FormatArg::Civicrm)]
    pub format: FormatArg,
    /// Show the CRM as it will be DAYS after --today: the same members, some renewed, some new,
    /// a few gone (a later export, for trying a re-import)
    /// (0 to 3653, ten years)
    #[arg(long, value_name = "DAYS", default_value_t = 0, value_parser = advance_arg,
          allow_negative_numbers = true)]
    pub advance: u32,
    /// With --advance: plant known changes on people the export of --today already shows (one
    /// in 50 each moves, moves local party, has their email put on hold, gets a new email, gets
    /// a duplicate CRM record, or has a lapsed membership left at Current), and say how many on
    /// standard error
    #[arg(long)]
    pub plant: bool,
    /// Write to FILE (owner-only) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Civicrm,
    Nationbuilder,
}

/// `--members`: within [`MAX_MEMBERS`], so a typo cannot start a run that never ends.
pub fn members_arg(s: &str) -> Result<u64, String> {
    whole_number_in(s, 1, MAX_MEMBERS, "people").map(|n| n as u64)
}

fn advance_arg(s: &str) -> Result<u32, String> {
    whole_number_in(s, 0, u64::from(MAX_ADVANCE_DAYS), "days").map(|n| n as u32)
}

fn whole_number_in(s: &str, low: u64, high: u64, unit: &str) -> Result<i128, String> {
    let n: i128 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of {unit}"))?;
    if n < i128::from(low) || n > i128::from(high) {
        return Err(format!("{n} is outside {low} to {high} {unit}"));
    }
    Ok(n)
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
        plant: args.plant,
    };
    if args.plant && args.advance == 0 {
        anyhow::bail!("--plant changes a later export: give --advance DAYS (1 or more)");
    }
    let summary = match &args.output {
        Some(path) => {
            let mut file = PendingFile::create(path, &ctx.db)?;
            let summary = write_export(&mut file, &options)
                .with_context(|| format!("writing {}", path.display()))?;
            file.put_in_place()?;
            summary
        }
        None => {
            let stdout = io::stdout().lock();
            write_export(&mut BufWriter::with_capacity(1 << 20, stdout), &options)
                .map_err(stdout_error)?
        }
    };
    if args.plant {
        let [moved, local_party, bouncing, email, twins, overrides] = summary.planted;
        note(format_args!(
            "planted: {moved} moved, {local_party} moved local party, {bouncing} emails put on \
             hold, {email} new emails, {twins} duplicate contacts, {overrides} forgotten \
             status overrides"
        ));
    }
    Ok(ExitCode::SUCCESS)
}
