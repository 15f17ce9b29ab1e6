//! The export the `--release` benchmarks load: the generator's CiviCRM file of `members` people
//! as of `today`, with the default seed, so every benchmark and every run reads the same data.
//! Included with `#[path = "support/export.rs"] mod export;`.

use std::io::BufWriter;
use std::path::Path;

use chrono::NaiveDate;
use rollcall::import::generate::{
    DEFAULT_SEED, ExportFormat, GenerateOptions, GenerateSummary, write_export,
};

pub fn civicrm_export(
    path: &Path,
    members: u64,
    today: NaiveDate,
) -> std::io::Result<GenerateSummary> {
    let file = std::fs::File::create(path)?;
    write_export(
        &mut BufWriter::with_capacity(1 << 20, file),
        &GenerateOptions {
            members,
            seed: DEFAULT_SEED,
            format: ExportFormat::Civicrm,
            today,
            advance_days: 0,
            plant: false,
        },
    )
}
