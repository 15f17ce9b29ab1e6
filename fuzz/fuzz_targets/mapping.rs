//! The mapping-file parser under coverage-guided fuzzing: bytes as a `--profile FILE.toml` →
//! a profile → matched to some exports' headers.
//!
//! Checked for every input: no panic, and a refused file's error names the file, and the line
//! and column of what is wrong, so that it can be fixed without guessing.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rollcall::import::Profile;

fuzz_target!(|data: &[u8]| {
    let path = mapping_path();
    std::fs::write(path, data).unwrap();
    match Profile::from_mapping_file(path) {
        Ok(profile) => {
            for headers in headers() {
                // Either a column map or a layout error; neither may panic.
                let _ = profile.map(headers);
            }
        }
        Err(e) => {
            let message = format!("{e:#}");
            assert!(
                message.contains(&path.display().to_string()),
                "the error names no file: {message}"
            );
            assert!(
                message.contains("line ") && message.contains("column "),
                "the error names no line and column: {message}"
            );
        }
    }
});

/// A file of this process's own: libFuzzer's `-jobs` runs several.
fn mapping_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rollcall-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("mapping.toml")
    })
}

/// The header lines of the seed exports, and a few made-up ones.
fn headers() -> &'static [Vec<String>] {
    static HEADERS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    HEADERS.get_or_init(|| {
        let lines = [
            include_str!("../../tests/fixtures/example_crm.csv"),
            include_str!("../../tests/fixtures/nationbuilder.csv"),
            include_str!("../../tests/fixtures/actionnetwork.csv"),
            "Supporter No,Forename,Surname,Email Address,Email Address,,Plan",
            "",
        ];
        lines
            .iter()
            .map(|text| {
                let first = text.lines().next().unwrap_or("");
                let delimiter = if first.contains(';') { ';' } else { ',' };
                first.split(delimiter).map(str::to_owned).collect()
            })
            .collect()
    })
}
