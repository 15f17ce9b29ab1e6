//! Search latency benchmark: replays queries key by key through the app's own search service and
//! reports key-to-result times, index load time and memory.
//!
//! ```sh
//! # build a 550,000-member database of synthetic UK members once (about half a minute)
//! cargo run --release --example search_latency -- --db /tmp/bench.db --synthesize 550000 \
//!     --queries assets/samples/search_queries.txt
//! # then replay against it (or any rollcall database)
//! cargo run --release --example search_latency -- --db /tmp/bench.db \
//!     --queries assets/samples/search_queries.txt
//! ```
//!
//! Each line of the queries file is typed one character at a time: every prefix is submitted to
//! the `SearchService`, and the time from `submit` to the result arriving through `poll` (woken by
//! the service's waker, as the app is) is one sample. Between lines the query is cleared, as an
//! officer does with Ctrl-U. `--pause-ms` waits between keys like a typist; the default (none) is
//! the harder case, with every search starting the moment the last one finished.
//!
//! A key whose query matches tens of thousands gets its list first and its total a moment later
//! (`SearchResults::counting`): a sample is the time to the list. `--wait-count` also waits for
//! each such total before the next key and reports those times apart.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rollcall::search::{IndexState, SearchResults, SearchService};
use rollcall::storage::{OpenMode, Store};

struct Args {
    db: PathBuf,
    queries: PathBuf,
    synthesize: Option<usize>,
    today: NaiveDate,
    pause: Duration,
    show_slowest: usize,
    wait_warm: bool,
    wait_count: bool,
}

fn usage() -> String {
    "usage: search_latency --db PATH --queries FILE [--synthesize N] [--today YYYY-MM-DD] \
     [--pause-ms MS] [--slowest N] [--wait-warm] [--wait-count]"
        .into()
}

fn parse_args() -> Result<Args, String> {
    let mut db = None;
    let mut queries = None;
    let mut synthesize = None;
    let mut today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date");
    let mut pause = Duration::ZERO;
    let mut show_slowest = 5;
    let mut wait_warm = false;
    let mut wait_count = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))
        };
        match flag.as_str() {
            "--db" => db = Some(PathBuf::from(value()?)),
            "--queries" => queries = Some(PathBuf::from(value()?)),
            "--synthesize" => {
                let v = value()?;
                synthesize = Some(
                    v.parse()
                        .map_err(|_| format!("--synthesize takes a count, not `{v}`"))?,
                );
            }
            "--today" => {
                let v = value()?;
                today = NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .map_err(|_| format!("--today takes YYYY-MM-DD, not `{v}`"))?;
            }
            "--pause-ms" => {
                let v = value()?;
                pause = Duration::from_millis(
                    v.parse()
                        .map_err(|_| format!("--pause-ms takes milliseconds, not `{v}`"))?,
                );
            }
            "--slowest" => {
                let v = value()?;
                show_slowest = v
                    .parse()
                    .map_err(|_| format!("--slowest takes a count, not `{v}`"))?;
            }
            "--wait-warm" => wait_warm = true,
            "--wait-count" => wait_count = true,
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument `{other}`\n{}", usage())),
        }
    }
    Ok(Args {
        db: db.ok_or_else(|| format!("--db is required\n{}", usage()))?,
        queries: queries.ok_or_else(|| format!("--queries is required\n{}", usage()))?,
        synthesize,
        today,
        pause,
        show_slowest,
        wait_warm,
        wait_count,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("search_latency: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    if let Some(n) = args.synthesize {
        if args.db.exists() {
            println!(
                "{} exists: using it as it is (delete it to synthesize again)",
                args.db.display()
            );
        } else {
            let started = Instant::now();
            synth::create(&args.db, n, args.today).map_err(|e| format!("synthesizing: {e}"))?;
            println!(
                "synthesized {n} contacts into {} in {:.1} s",
                args.db.display(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let text = std::fs::read_to_string(&args.queries)
        .map_err(|e| format!("{}: {e}", args.queries.display()))?;
    let queries: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    if queries.is_empty() {
        return Err(format!("{}: no queries in it", args.queries.display()));
    }
    // Fail clearly here rather than on the loader thread.
    Store::open(&args.db, OpenMode::ReadOnly).map_err(|e| e.to_string())?;

    let rss_before = memory();
    let signal = Arc::new((Mutex::new(false), Condvar::new()));
    let waker_signal = Arc::clone(&signal);
    let waker: rollcall::app::pane::Waker = Arc::new(move || {
        let (lock, cvar) = &*waker_signal;
        *lock.lock().unwrap() = true;
        cvar.notify_all();
    });
    let started = Instant::now();
    let service = SearchService::start(
        &rollcall::storage::Location::from_path(&args.db),
        args.today,
        waker,
    );
    let (records, load_time) = loop {
        match service.state() {
            IndexState::Ready {
                records, load_time, ..
            } => break (records, load_time),
            IndexState::Failed(why) => return Err(why),
            IndexState::Loading { .. } => wait(&signal, Duration::from_millis(50)),
        }
    };
    let ready_after = started.elapsed();
    let rss_loaded = memory();
    let warm_after = if args.wait_warm {
        loop {
            let (done, all) = service.warm_progress();
            if done == all {
                break Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        None
    };

    let mut samples = Vec::new();
    let mut slowest: Vec<(Duration, String, usize, usize)> = Vec::new();
    let mut kinds = [0usize; 3]; // full scans, narrowed, reused
    let (mut counted_later, mut count_samples) = (0, Vec::new());
    for query in &queries {
        let mut typed = String::new();
        for c in query.chars() {
            typed.push(c);
            let submitted = Instant::now();
            service.submit(&typed);
            let result = await_result(&service, &signal, &typed, false)?;
            let took = submitted.elapsed();
            samples.push(took);
            if result.counting {
                counted_later += 1;
                if args.wait_count {
                    await_result(&service, &signal, &typed, true)?;
                    count_samples.push(submitted.elapsed());
                }
            }
            slowest.push((took, typed.clone(), result.searched, result.total));
            kinds[match result.searched {
                0 => 2,
                s if s == records => 0,
                _ => 1,
            }] += 1;
            std::thread::sleep(args.pause);
        }
        service.submit("");
        await_result(&service, &signal, "", false)?;
    }
    let rss_end = memory();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));

    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!("records:        {records}");
    println!(
        "index load:     {:.0} ms (service reported {:.0} ms)",
        ms(ready_after),
        ms(load_time)
    );
    match warm_after {
        Some(t) => println!(
            "warm-up:        all two-character queries answered {:.1} s after start",
            t.as_secs_f64()
        ),
        None => println!(
            "warm-up:        not waited for ({} of {} two-character queries answered when \
             typing ended)",
            service.warm_progress().0,
            service.warm_progress().1
        ),
    }
    println!(
        "queries:        {} lines, {} keystrokes ({} full scans, {} narrowed, {} reused)",
        queries.len(),
        samples.len(),
        kinds[0],
        kinds[1],
        kinds[2]
    );
    println!(
        "key to result:  p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  max {:.2} ms  mean {:.2} ms",
        ms(pct(0.50)),
        ms(pct(0.95)),
        ms(pct(0.99)),
        ms(samples[samples.len() - 1]),
        ms(mean)
    );
    count_samples.sort_unstable();
    match count_samples.len() {
        0 => println!("totals:         {counted_later} keys showed their list before their total"),
        n => println!(
            "key to total:   {n} keys counted after the list: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            ms(count_samples[n / 2]),
            ms(count_samples[((n - 1) as f64 * 0.99).round() as usize]),
            ms(count_samples[n - 1])
        ),
    }
    println!("slowest keys:");
    for (took, typed, searched, total) in slowest.iter().take(args.show_slowest) {
        println!(
            "  {:>7.2} ms  {typed:<28} searched {searched:>7}  matched {total:>7}",
            ms(*took)
        );
    }
    println!(
        "memory (RSS):   before {}  index loaded {}  after replay {}  peak (VmHWM) {}",
        mib(rss_before.0),
        mib(rss_loaded.0),
        mib(rss_end.0),
        mib(rss_end.1)
    );
    Ok(())
}

fn wait(signal: &(Mutex<bool>, Condvar), timeout: Duration) {
    let (lock, cvar) = signal;
    let mut woken = lock.lock().unwrap();
    if !*woken {
        woken = cvar.wait_timeout(woken, timeout).unwrap().0;
    }
    *woken = false;
}

fn await_result(
    service: &SearchService,
    signal: &(Mutex<bool>, Condvar),
    query: &str,
    counted: bool,
) -> Result<SearchResults, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(result) = service.poll()
            && result.query == query
            && (!counted || !result.counting)
        {
            return Ok(result);
        }
        if Instant::now() > deadline {
            return Err(format!("no result for `{query}` within 30 s"));
        }
        wait(signal, Duration::from_millis(5));
    }
}

/// (VmRSS, VmHWM) in kB from /proc/self/status (zeros where there is no /proc).
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kb: u64) -> String {
    format!("{:.0} MiB", kb as f64 / 1024.0)
}

/// Synthetic UK members, written straight into a rollcall database with SQL.
mod synth {
    use super::*;
    use rollcall::domain::dates::{add_months, sub_months};
    use rollcall::domain::membership::{MembershipDates, derive_status};
    use rollcall::storage::sql::params;

    /// A small deterministic generator (SplitMix64): same seed, same members.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, percent: f64) -> bool {
            (self.next() % 10_000) as f64 / 100.0 < percent
        }
        /// Zipf-like pick: early entries much more common, as real names are.
        fn skewed<'a>(&mut self, items: &[&'a str]) -> &'a str {
            let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
            items[((items.len() as f64).powf(u) - 1.0) as usize % items.len()]
        }
    }

    const FIRST: &[&str] = &[
        "David",
        "John",
        "Sarah",
        "Michael",
        "James",
        "Emma",
        "Paul",
        "Claire",
        "Mark",
        "Helen",
        "Andrew",
        "Rachel",
        "Peter",
        "Laura",
        "Richard",
        "Emily",
        "Thomas",
        "Sophie",
        "Daniel",
        "Rebecca",
        "Siân",
        "Rhiannon",
        "Dafydd",
        "Gwenllian",
        "Iwan",
        "Llŷr",
        "Gwŷn",
        "Ffion",
        "Branwen",
        "Elin",
        "Rhodri",
        "Aled",
        "Bethan",
        "Carys",
        "Eleri",
        "Heledd",
        "Meinir",
        "Nia",
        "Owain",
        "Tomos",
        "Iolo",
        "Ioan",
        "Gruffydd",
        "Cerys",
        "Siobhán",
        "Aoife",
        "Niamh",
        "Caoimhe",
        "Seán",
        "Pádraig",
        "Órla",
        "Ciarán",
        "Éamon",
        "Łukasz",
        "Paweł",
        "Michał",
        "Wojciech",
        "Zofia",
        "Małgorzata",
        "Agnieszka",
        "Katarzyna",
        "Grzegorz",
        "Bartłomiej",
        "Chloé",
        "Zoë",
        "Amir",
        "Fatima",
        "Aisha",
        "Mohammed",
        "Priya",
        "Rajesh",
        "Olivia",
        "Amelia",
        "Isla",
        "Ava",
        "Jack",
        "Harry",
        "George",
        "Noah",
        "Oliver",
        "Charlie",
        "Jacob",
        "Alfie",
        "Freddie",
        "Oscar",
        "William",
        "Joshua",
        "Lucy",
        "Hannah",
        "Grace",
        "Megan",
        "Jessica",
        "Charlotte",
        "Katie",
        "Lauren",
        "Amy",
        "Jennifer",
        "Karen",
        "Susan",
        "Margaret",
        "Elizabeth",
        "Patricia",
        "Linda",
        "Barbara",
        "Christine",
        "Gillian",
        "Janet",
        "Robert",
        "Stephen",
        "Christopher",
        "Anthony",
        "Kevin",
        "Gary",
        "Ian",
        "Simon",
        "Neil",
        "Graham",
        "Keith",
        "Colin",
        "Alan",
        "Brian",
        "Martin",
        "Philip",
        "Timothy",
        "Jonathan",
        "Matthew",
        "Adam",
        "Benjamin",
        "Samuel",
        "Luke",
        "Nathan",
        "Ryan",
        "Liam",
        "Connor",
        "Callum",
        "Kieran",
        "Declan",
        "Fiona",
        "Morag",
        "Ailsa",
        "Eilidh",
        "Hamish",
        "Angus",
        "Catriona",
        "Mairi",
        "Ruairidh",
        "Ewan",
        "Iain",
        "Kirsty",
        "Shona",
        "Jo",
        "Jon",
        "Joan",
        "Joanna",
        "Joseph",
        "Josephine",
        "Joel",
        "Jonah",
        "Jordan",
        "Julie",
        "Julian",
        "Justin",
    ];

    const SURNAMES: &[&str] = &[
        "Smith",
        "Jones",
        "Williams",
        "Taylor",
        "Davies",
        "Brown",
        "Evans",
        "Thomas",
        "Wilson",
        "Johnson",
        "Roberts",
        "Robinson",
        "Thompson",
        "Wright",
        "Walker",
        "White",
        "Edwards",
        "Hughes",
        "Green",
        "Hall",
        "Lewis",
        "Harris",
        "Clarke",
        "Patel",
        "Jackson",
        "Wood",
        "Turner",
        "Martin",
        "Cooper",
        "Hill",
        "Ward",
        "Morris",
        "Moore",
        "Clark",
        "Lee",
        "King",
        "Baker",
        "Harrison",
        "Morgan",
        "Allen",
        "James",
        "Scott",
        "Phillips",
        "Watson",
        "Davis",
        "Parker",
        "Price",
        "Bennett",
        "Young",
        "Griffiths",
        "Mitchell",
        "Kelly",
        "Cook",
        "Carter",
        "Richardson",
        "Bailey",
        "Collins",
        "Bell",
        "Shaw",
        "Murphy",
        "Miller",
        "Cox",
        "Richards",
        "Khan",
        "Marshall",
        "Anderson",
        "Simpson",
        "Ellis",
        "Adams",
        "Singh",
        "Begum",
        "Wilkinson",
        "Foster",
        "Chapman",
        "Powell",
        "Webb",
        "Rogers",
        "Gray",
        "Mason",
        "Ali",
        "Hunt",
        "Hussain",
        "Campbell",
        "Matthews",
        "Owen",
        "Palmer",
        "Holmes",
        "Mills",
        "Barnes",
        "Knight",
        "Lloyd",
        "Butler",
        "Russell",
        "Barker",
        "Fisher",
        "Stevens",
        "Jenkins",
        "Murray",
        "Dixon",
        "Harvey",
        "O'Neill",
        "O'Brien",
        "McCarthy",
        "Ó Briain",
        "Nowak",
        "Kowalski",
        "Wiśniewski",
        "Wójcik",
        "Kamiński",
        "Lewandowski",
        "Zieliński",
        "Szymański",
        "Dąbrowski",
        "Jones-Davies",
        "ap Dafydd",
        "ap Gwilym",
        "Llywelyn",
        "Pritchard",
        "Prosser",
        "Vaughan",
        "Rees",
        "Bowen",
        "Howells",
        "Parry",
        "Pugh",
        "MacDonald",
        "MacLeod",
        "Fraser",
        "Stewart",
        "Robertson",
        "Ferguson",
        "Ó Súilleabháin",
        "Ní Bhriain",
        "Siôn",
        "Gwynedd",
        "Gruffudd",
    ];

    /// The long tail of rarer surnames, put together from parts as English surnames are.
    const HEADS: &[&str] = &[
        "Ash", "Brad", "Hol", "Whit", "Black", "Cross", "Fair", "Green", "Hart", "Lang", "Mar",
        "New", "Pen", "Red", "Stan", "Thorn", "Wal", "West", "Brook", "Cald", "Dun", "Elm", "Far",
        "Gold", "Hay", "Kings", "Lock", "Mill", "North", "Oak", "Rad", "Shel", "Stock", "Tal",
        "Wake", "Win", "Ather", "Bur", "Craw", "Ded",
    ];
    const TAILS: &[&str] = &[
        "worth", "ley", "brook", "field", "ford", "ham", "ton", "wood", "well", "by", "stone",
        "more", "bridge", "wick", "hurst", "combe", "den", "dale", "shaw", "croft", "gate", "land",
        "thorpe", "cott", "er", "man", "ing", "stead", "low", "way", "burn", "sley", "hill",
        "side", "ridge", "bury", "holme", "wright", "smith", "ward",
    ];

    const TOWNS: &[&str] = &[
        "Cardiff",
        "Swansea",
        "Newport",
        "Wrexham",
        "Bangor",
        "Aberystwyth",
        "Carmarthen",
        "Llanelli",
        "Merthyr Tydfil",
        "Pontypridd",
        "Bridgend",
        "Caerphilly",
        "Barry",
        "Neath",
        "Rhondda",
        "Llandudno",
        "Caernarfon",
        "Brecon",
        "Monmouth",
        "Pembroke",
        "London",
        "Birmingham",
        "Manchester",
        "Liverpool",
        "Leeds",
        "Sheffield",
        "Bristol",
        "Newcastle",
        "Nottingham",
        "Leicester",
        "Coventry",
        "Bradford",
        "Hull",
        "Stoke",
        "Wolverhampton",
        "Plymouth",
        "Southampton",
        "Reading",
        "Derby",
        "Luton",
        "Oxford",
        "Cambridge",
        "York",
        "Exeter",
        "Norwich",
        "Ipswich",
        "Brighton",
        "Bath",
        "Gloucester",
        "Worcester",
        "Hereford",
        "Shrewsbury",
        "Chester",
        "Lancaster",
        "Carlisle",
        "Durham",
        "Sunderland",
        "Middlesbrough",
        "Glasgow",
        "Edinburgh",
        "Aberdeen",
        "Dundee",
        "Inverness",
        "Stirling",
        "Perth",
        "Belfast",
        "Derry",
        "Lincoln",
        "Peterborough",
        "Milton Keynes",
    ];
    const PARTS: &[&str] = &["", " North", " South", " East", " West", " Central"];

    const AREAS: &[&str] = &[
        "CF", "SA", "LL", "NP", "SY", "LD", "B", "M", "L", "LS", "S", "E", "N", "SW", "SE", "W",
        "NW", "EC", "BS", "G", "EH", "BT", "OX", "CB", "NE", "NG", "LE", "CV", "BD", "HU", "ST",
        "WV", "PL", "SO", "RG", "DE", "LU", "YO", "EX", "NR", "IP", "BN", "BA", "GL", "WR", "HR",
        "CH", "LA", "CA", "DH", "SR", "TS", "AB", "DD", "IV", "FK", "PH", "LN", "PE", "MK",
    ];
    const UNIT: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

    const DOMAINS: &[&str] = &[
        "gmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "yahoo.co.uk",
        "btinternet.com",
        "icloud.com",
        "live.co.uk",
        "sky.com",
        "aol.com",
        "protonmail.com",
    ];

    const TYPES: &[(&str, usize)] = &[
        ("Individual", 70),
        ("Reduced Rate", 15),
        ("Youth", 8),
        ("Family", 5),
        ("Lifetime", 2),
    ];

    fn ascii_lower(s: &str) -> String {
        String::from_utf8(rollcall::search::normalize::compact(s)).expect("folded text is ASCII")
    }

    fn surname(rng: &mut Rng) -> String {
        if rng.chance(55.0) {
            rng.skewed(SURNAMES).to_owned()
        } else {
            format!("{}{}", rng.skewed(HEADS), rng.skewed(TAILS))
        }
    }

    fn postcode(rng: &mut Rng) -> String {
        let area = rng.skewed(AREAS);
        let district = 1 + rng.below(if area.len() == 1 { 30 } else { 60 });
        let unit: String = (0..2)
            .map(|_| UNIT[rng.below(UNIT.len())] as char)
            .collect();
        format!("{area}{district} {}{unit}", rng.below(10))
    }

    fn phone(rng: &mut Rng) -> String {
        let digits = |rng: &mut Rng, n: usize| -> String {
            (0..n)
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect()
        };
        match rng.below(100) {
            0..=59 => format!("07{} {}", digits(rng, 3), digits(rng, 6)),
            60..=69 => format!("+44 7{} {}", digits(rng, 3), digits(rng, 6)),
            70..=84 => format!(
                "0{} {} {}",
                20 + rng.below(80),
                digits(rng, 4),
                digits(rng, 4)
            ),
            _ => String::new(),
        }
    }

    fn email(rng: &mut Rng, first: &str, last: &str) -> String {
        let (f, l) = (ascii_lower(first), ascii_lower(last));
        let local = match rng.below(6) {
            0 | 1 => format!("{f}.{l}"),
            2 => format!("{f}{l}"),
            3 => format!("{}.{l}", &f[..1.min(f.len())]),
            4 => format!("{f}_{l}{}", rng.below(100)),
            _ => format!("{f}{}", 1940 + rng.below(70)),
        };
        format!("{local}@{}", rng.skewed(DOMAINS))
    }

    fn date_between(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let days = (to - from).num_days().max(1) as usize;
        from + chrono::Days::new(rng.below(days) as u64)
    }

    struct Membership {
        crm_id: String,
        membership_type: &'static str,
        join: NaiveDate,
        start: NaiveDate,
        end: Option<NaiveDate>,
        crm_status: &'static str,
        auto_renew: bool,
    }

    fn membership(rng: &mut Rng, crm_id: u64, today: NaiveDate) -> Membership {
        let mut pick = rng.below(100);
        let membership_type = TYPES
            .iter()
            .find(|(_, share)| {
                let hit = pick < *share;
                pick = pick.saturating_sub(*share);
                hit
            })
            .map_or("Individual", |(t, _)| t);
        let earliest = NaiveDate::from_ymd_opt(1995, 1, 1).expect("valid date");
        let join = date_between(rng, earliest, today);
        // End dates cluster around today: most current, some lapsed, a few long gone.
        let end = if membership_type == "Lifetime" {
            None
        } else {
            let back = add_months(today, 24);
            let from = if rng.chance(20.0) {
                join
            } else {
                today - chrono::Days::new(400)
            };
            Some(date_between(rng, from.max(join), back))
        };
        // A year's membership: it started a year before it ends (or when they joined).
        let start = end
            .map_or(join, |e| sub_months(e, 12) + chrono::Days::new(1))
            .max(join);
        let dates = MembershipDates {
            join: Some(join),
            start: Some(start),
            end,
            dates_unknown: false,
        };
        // The export was taken three weeks before today, so some statuses are stale.
        let exported = today - chrono::Days::new(21);
        let crm_status = if rng.chance(0.5) {
            "Cancelled"
        } else {
            derive_status(dates, None, false, exported.max(join)).label()
        };
        Membership {
            crm_id: crm_id.to_string(),
            membership_type,
            join,
            start,
            end,
            crm_status,
            auto_renew: rng.chance(40.0),
        }
    }

    /// Writes `n` synthetic contacts (about 10% with a second, older membership) into a new
    /// database at `path`.
    pub fn create(path: &Path, n: usize, today: NaiveDate) -> Result<(), String> {
        let mut store = Store::open(path, OpenMode::ReadWrite).map_err(|e| e.to_string())?;
        let tx = store.conn.transaction().map_err(|e| e.to_string())?;
        {
            let mut contact = tx
                .prepare(
                    "INSERT INTO contacts (id, source, crm_id, contact_type, display_name,
                        sort_name, first_name, last_name, organization_name, email, phone,
                        postcode, city, preferred_language, do_not_email, do_not_phone,
                        do_not_mail, do_not_sms, no_bulk_email, on_hold, is_deceased,
                        local_party, region)
                     VALUES (?1, 'civicrm', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                        ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
                )
                .map_err(|e| e.to_string())?;
            let mut member = tx
                .prepare(
                    "INSERT INTO memberships (contact_id, source, sync_key, crm_membership_id,
                        membership_type, join_date, start_date, end_date, crm_status, auto_renew)
                     VALUES (?1, 'civicrm', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(|e| e.to_string())?;
            let mut rng = Rng(0x5EED_2026);
            let mut next_membership = 1u64;
            for i in 0..n {
                let id = i as i64 + 1;
                let crm_id = 1000 + i as u64 * 3 + rng.below(3) as u64;
                let town = rng.skewed(TOWNS);
                let local_party = format!("{town}{}", PARTS[rng.below(PARTS.len())]);
                let organisation = rng.chance(1.0);
                let (first, last, display, sort, org) = if organisation {
                    let org = format!("{town} {} Co-operative", surname(&mut rng));
                    (String::new(), String::new(), org.clone(), org.clone(), org)
                } else {
                    let first = rng.skewed(FIRST).to_owned();
                    let last = surname(&mut rng);
                    let display = format!("{first} {last}");
                    let sort = format!("{last}, {first}");
                    (first, last, display, sort, String::new())
                };
                let email = if rng.chance(94.0) {
                    let (f, l) = if organisation {
                        ("info", town)
                    } else {
                        (first.as_str(), last.as_str())
                    };
                    email(&mut rng, f, l)
                } else {
                    String::new()
                };
                let welsh = town_is_welsh(town) && rng.chance(30.0) || rng.chance(1.0);
                contact
                    .execute(params![
                        id,
                        crm_id.to_string(),
                        if organisation {
                            "Organization"
                        } else {
                            "Individual"
                        },
                        display,
                        sort,
                        first,
                        last,
                        org,
                        email,
                        phone(&mut rng),
                        postcode(&mut rng),
                        town,
                        if welsh { "cy_GB" } else { "en_GB" },
                        rng.chance(5.0),
                        rng.chance(8.0),
                        rng.chance(3.0),
                        rng.chance(4.0),
                        rng.chance(6.0),
                        rng.chance(2.0),
                        rng.chance(0.5),
                        local_party,
                        "",
                    ])
                    .map_err(|e| e.to_string())?;
                let count = if rng.chance(10.0) { 2 } else { 1 };
                for _ in 0..count {
                    let crm_membership = next_membership;
                    next_membership += 1 + rng.below(2) as u64;
                    let m = membership(&mut rng, crm_membership, today);
                    member
                        .execute(params![
                            id,
                            format!("id:{}", m.crm_id),
                            m.crm_id,
                            m.membership_type,
                            m.join.to_string(),
                            m.start.to_string(),
                            m.end.map(|d| d.to_string()),
                            m.crm_status,
                            m.auto_renew,
                        ])
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(())
    }

    fn town_is_welsh(town: &str) -> bool {
        TOWNS[..20].contains(&town)
    }
}
