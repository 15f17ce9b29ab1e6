//! Where a command's output goes: a file named with `-o` (checked, written whole and renamed into
//! place by [`PendingFile`]) or standard output, and the lines for the user on standard error.
//!
//! Writing never panics (`println!` does, on a closed pipe or a full disk). A failed write to
//! standard output is an error naming "standard output" and the cause, exit status 1 — except a
//! closed pipe: the reader stopped (`rollcall audit | head`), which is theirs to decide, so
//! [`super::main`] ends the command quietly with status 0 (see [`is_closed_pipe`]). What a
//! command would have recorded about output the reader never took (an activity export) is not
//! recorded: the write comes before the commit.

use std::fmt::Display;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::export::pending_file::PendingFile;
use crate::text::printable_lines;

/// What [`print`] and friends say about a failed write.
const STDOUT: &str = "writing to standard output";

/// `--json`, `--csv` and `-o FILE`: how a report for the CRM (`changes`, `drift`,
/// `duplicates`) comes out. Without either format it is a table for a person.
#[derive(Debug, clap::Args)]
pub struct ReportFormat {
    /// Print JSON
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (formula-safe), CRM ids first, for the CRM
    #[arg(long)]
    pub csv: bool,
    /// Write the --json or --csv to this file (owner-only) instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ReportFormat {
    /// Refuses `-o` without a format, before any work is done.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.output.is_some() && !(self.json || self.csv) {
            anyhow::bail!("-o writes --csv or --json; say which");
        }
        Ok(())
    }

    /// Prints or writes the report: `json` as JSON, the CSV `csv` makes, or the `text` table;
    /// a file written says how many `items` (e.g. "pair(s)") it holds.
    pub fn emit<T: serde::Serialize + ?Sized>(
        &self,
        db: &crate::storage::Location,
        json: &T,
        csv: impl FnOnce() -> anyhow::Result<Vec<u8>>,
        text: impl FnOnce() -> String,
        (count, items): (usize, &str),
    ) -> anyhow::Result<ExitCode> {
        let bytes = if self.json {
            (serde_json::to_string_pretty(json)? + "\n").into_bytes()
        } else if self.csv {
            csv()?
        } else {
            print_text(&text())?;
            return Ok(ExitCode::SUCCESS);
        };
        write_output(self.output.as_deref(), db, &bytes)?;
        if let Some(path) = &self.output {
            note(format_args!(
                "{count} {items} written to {}",
                path.display()
            ));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Writes `bytes` to `dest`, an output of the database at `db`, or to standard output.
pub fn write_output(
    dest: Option<&Path>,
    db: &crate::storage::Location,
    bytes: &[u8],
) -> anyhow::Result<()> {
    match dest {
        Some(path) => {
            let mut file = PendingFile::create(path, db)?;
            file.write_all(bytes)?;
            file.put_in_place()?;
            Ok(())
        }
        None => write_stdout(bytes),
    }
}

/// Prints `text` to standard output as it is: JSON (its escapes keep control characters
/// harmless) or CSV (the data, as it is).
pub fn print(text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    write_stdout(text.as_ref())
}

/// Prints text meant for a person (tables, lists, reports): CRM values in it lose their control
/// characters ([`printable_lines`]) on the way.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    print(printable_lines(text).as_bytes())
}

/// `println!` for a line meant for a person, through [`print_text`]: it never panics, so use it
/// with `?`.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::print_text(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use say;

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context(STDOUT)
}

/// Wraps a failed write to standard output in the same words as [`print`].
pub fn stdout_error(e: io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context(STDOUT)
}

/// A line for the user on standard error. If standard error itself cannot be written (closed,
/// full), there is nobody to tell: the exit status still says how the command ended.
pub fn note(line: impl Display) {
    let line = line.to_string();
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", printable_lines(&line)).and_then(|()| err.flush());
}

/// Whether `err` comes from writing to a pipe whose reader has gone.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = if let Some(io) = cause.downcast_ref::<io::Error>() {
            Some(io.kind())
        } else if let Some(csv) = cause.downcast_ref::<csv::Error>() {
            match csv.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            }
        } else {
            cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// Asks `question` on the terminal and reads the answer from standard input: true for `y` or
/// `yes`. The caller first checks that standard input is a terminal (a script passes `--yes`
/// instead), and says what the refusal means in its own words.
pub fn ask_yes_no(question: &str) -> anyhow::Result<bool> {
    let mut err = io::stderr().lock();
    write!(err, "{} [y/N] ", printable_lines(question))
        .and_then(|()| err.flush())
        .context("asking on standard error")?;
    let mut answer = String::new();
    io::stdin()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
