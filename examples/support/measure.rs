//! Measuring a child process for the `--release` benchmarks: wall time, CPU time and peak
//! memory (`VmHWM`, sampled from `/proc` every 2 ms; Linux). Included with
//! `#[path = "support/measure.rs"] mod measure;`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one child process used.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    pub cpu: Duration,
    pub peak_kb: u64,
}

/// Runs a command to the end, sampling its peak memory and CPU time from /proc.
pub fn measure(cmd: &mut Command) -> Result<(Run, Vec<u8>), String> {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut stdout = stdout;
        let _ = std::io::Read::read_to_end(&mut stdout, &mut out);
        out
    });
    let (mut peak_kb, mut cpu) = (0, Duration::ZERO);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if let Some((hwm, used)) = sample(pid) {
            peak_kb = peak_kb.max(hwm);
            cpu = cpu.max(used);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(format!("{cmd:?} failed: {status}\n{err}"));
    }
    Ok((Run { wall, cpu, peak_kb }, out))
}

/// (VmHWM in KB, user + system CPU time) of a running process.
fn sample(pid: u32) -> Option<(u64, Duration)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces): state is field 3, utime 14.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((hwm, Duration::from_millis(ticks * 10)))
}

/// The 1-minute load average: other work on the machine slows every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
