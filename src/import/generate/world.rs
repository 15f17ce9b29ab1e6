//! Names, places and the small facts the generator draws from: who people are and where they
//! live. Welsh, Irish, South Asian, Polish, West African and English/Scottish names with their
//! diacritics and apostrophes; regions with local parties, towns, postcode areas, counties and
//! constituencies; fictional phone numbers and `example.*` email domains.

use super::{Culture, Rng};

pub(super) fn first_names(culture: Culture, female: bool) -> &'static [&'static str] {
    match (culture, female) {
        (Culture::English, true) => &[
            "Olivia",
            "Amelia",
            "Margaret",
            "Charlotte",
            "Eilidh",
            "Morag",
            "Joanne",
            "Chloé",
            "Zoë",
            "Ruth",
            "Harriet",
            "Kirsty",
        ],
        (Culture::English, false) => &[
            "James", "George", "Hamish", "Thomas", "Callum", "Peter", "Noël", "David", "Andrew",
            "Stuart", "Ewan", "Matthew",
        ],
        (Culture::Welsh, true) => &[
            "Siân",
            "Ffion",
            "Angharad",
            "Cerys",
            "Eluned",
            "Gwenllian",
            "Llinos",
            "Nia",
            "Rhiannon",
            "Non",
            "Mererid",
            "Heledd",
        ],
        (Culture::Welsh, false) => &[
            "Rhys", "Dafydd", "Owain", "Gethin", "Iolo", "Emyr", "Gruffudd", "Huw", "Llŷr", "Aled",
            "Dewi", "Ieuan",
        ],
        (Culture::Irish, true) => &[
            "Siobhán", "Niamh", "Aoife", "Órla", "Caoimhe", "Saoirse", "Gráinne", "Máire",
            "Sinéad", "Deirdre",
        ],
        (Culture::Irish, false) => &[
            "Seán", "Ciarán", "Pádraig", "Eoin", "Cillian", "Tadhg", "Donal", "Ruairí", "Colm",
            "Fionn",
        ],
        (Culture::SouthAsian, true) => &[
            "Priya", "Aisha", "Harpreet", "Sunita", "Fatima", "Ananya", "Nusrat", "Shabnam",
            "Kavita", "Zainab",
        ],
        (Culture::SouthAsian, false) => &[
            "Arjun", "Mohammed", "Imran", "Rajesh", "Gurpreet", "Sanjay", "Tariq", "Vikram",
            "Abdul", "Hassan",
        ],
        (Culture::Polish, true) => &[
            "Zofia",
            "Małgorzata",
            "Agnieszka",
            "Katarzyna",
            "Joanna",
            "Łucja",
            "Grażyna",
            "Ewa",
        ],
        (Culture::Polish, false) => &[
            "Łukasz",
            "Wojciech",
            "Krzysztof",
            "Józef",
            "Paweł",
            "Michał",
            "Tomasz",
            "Bartłomiej",
        ],
        (Culture::WestAfrican, true) => {
            &["Chiamaka", "Adaeze", "Folake", "Abena", "Ngozi", "Yetunde"]
        }
        (Culture::WestAfrican, false) => {
            &["Adebayo", "Kwame", "Chidi", "Kofi", "Emeka", "Oluwaseun"]
        }
    }
}

pub(super) fn name(r: &mut Rng, culture: Culture, female: bool) -> (&'static str, String) {
    let first = *r.pick(first_names(culture, female));
    let last = match culture {
        Culture::English => r
            .pick(&[
                "Smith",
                "Taylor",
                "Brown",
                "Wilson",
                "MacDonald",
                "Campbell",
                "Robertson",
                "Thompson",
                "Hughes",
                "Clarke",
                "O'Connor",
                "Smith-Jones",
                "Fairbairn",
                "D'Arcy",
                "Whitehead",
                "Ashworth",
            ])
            .to_string(),
        Culture::Welsh => {
            if !female && r.per_mille(120) {
                r.pick(&["ap Gwilym", "ap Rhys", "ab Owain", "ap Dafydd"])
                    .to_string()
            } else {
                r.pick(&[
                    "Jones",
                    "Davies",
                    "Evans",
                    "Williams",
                    "Pritchard",
                    "Llewelyn",
                    "Huws",
                    "Morgan",
                    "Prys",
                    "Lloyd",
                    "Parry",
                    "Griffiths",
                ])
                .to_string()
            }
        }
        Culture::Irish => {
            if female && r.per_mille(250) {
                r.pick(&[
                    "Ní Bhriain",
                    "Ní Dhónaill",
                    "Nic Giolla Phádraig",
                    "Ní Cheallaigh",
                ])
                .to_string()
            } else {
                r.pick(&[
                    "O'Neill",
                    "O'Brien",
                    "Ó Súilleabháin",
                    "McCarthy",
                    "Mac Giolla Phádraig",
                    "Kennedy",
                    "Ó Ceallaigh",
                    "Byrne",
                    "Ó Dónaill",
                ])
                .to_string()
            }
        }
        Culture::SouthAsian => r
            .pick(&[
                "Patel", "Khan", "Singh", "Chaudhry", "Begum", "Hussain", "Sharma", "Ahmed",
                "Gill", "Mistry", "Sandhu", "D'Souza",
            ])
            .to_string(),
        Culture::Polish => {
            let (male_form, female_form) = *r.pick(&[
                ("Wójcik", "Wójcik"),
                ("Dąbrowski", "Dąbrowska"),
                ("Kowalski", "Kowalska"),
                ("Nowak", "Nowak"),
                ("Lewandowski", "Lewandowska"),
                ("Wiśniewski", "Wiśniewska"),
                ("Zieliński", "Zielińska"),
                ("Kamiński", "Kamińska"),
            ]);
            (if female { female_form } else { male_form }).to_string()
        }
        Culture::WestAfrican => r
            .pick(&[
                "Okafor", "Mensah", "Adeyemi", "Eze", "Boateng", "Oyelaran", "Nwosu", "Asante",
            ])
            .to_string(),
    };
    (first, last)
}

pub(super) fn organisation_name(r: &mut Rng, place: &Place) -> String {
    let town = place.town;
    match r.below(8) {
        0 => format!("{town} Co-operative Society"),
        1 => format!("{town} Bike Workshop Co-op"),
        2 => format!(
            "{} Housing Co-operative",
            r.pick(&[
                "Tŷ Gwyrdd",
                "Maes-y-Coed",
                "Brighter Homes",
                "Riverside",
                "St Mungo's"
            ])
        ),
        3 => format!("{town} Food Co-op Ltd"),
        4 => format!("{town} Trades Council"),
        5 => format!(
            "{} Bakers' Co-op",
            r.pick(&[
                "O'Brien & Ní Bhriain",
                "Dough Re Mi",
                "Bara Brith",
                "Rising Tide"
            ])
        ),
        6 => format!("{town} Community Energy"),
        _ => format!("Friends of {town} Library"),
    }
}

pub(super) fn email(r: &mut Rng, first: &str, last: &str, organisation: Option<&str>) -> String {
    let domain = r.pick(&["example.org", "example.com", "example.net"]);
    match organisation {
        Some(org) => format!(
            "info@{}.{domain}",
            ascii_fold(org).chars().take(20).collect::<String>()
        ),
        None => {
            let n = r.below(100);
            let local = format!("{}.{}", ascii_fold(first), ascii_fold(last));
            if n < 60 {
                format!("{local}@{domain}")
            } else {
                format!("{local}{n}@{domain}")
            }
        }
    }
}

/// Lowercase ASCII letters and digits only, diacritics folded (ł → l, â → a).
fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let folded = match c {
                'á' | 'à' | 'â' | 'ą' | 'Á' => 'a',
                'é' | 'è' | 'ê' | 'ë' | 'ę' | 'É' => 'e',
                'í' | 'î' | 'ï' | 'Í' => 'i',
                'ó' | 'ô' | 'ö' | 'Ó' => 'o',
                'ú' | 'û' | 'ü' => 'u',
                'ŵ' => 'w',
                'ŷ' | 'ý' => 'y',
                'ł' | 'Ł' => 'l',
                'ś' | 'Ś' => 's',
                'ź' | 'ż' | 'Ż' => 'z',
                'ć' => 'c',
                'ń' => 'n',
                c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
                _ => return None,
            };
            Some(folded)
        })
        .collect()
}

pub(super) fn postcode(r: &mut Rng, outward: &str) -> String {
    const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let a = LETTERS[r.below(LETTERS.len() as u64) as usize] as char;
    let b = LETTERS[r.below(LETTERS.len() as u64) as usize] as char;
    format!("{outward} {}{a}{b}", r.below(10))
}

pub(super) fn street_line(r: &mut Rng, region: &Region, culture: Culture) -> String {
    let names: &[&str] =
        if region.name == "Wales" && (culture == Culture::Welsh || r.per_mille(400)) {
            &[
                "Heol y Frenhines",
                "Ffordd Pen Llŷn",
                "Stryd Fawr",
                "Heol Eglwys",
                "Lôn Las",
                "Maes y Coed",
                "Ffordd yr Orsaf",
            ]
        } else {
            &[
                "High Street",
                "Station Road",
                "Church Lane",
                "Victoria Road",
                "Park Avenue",
                "Mill Lane",
                "Queen Street",
                "Albert Terrace",
                "Green Lane",
                "King's Road",
                "St John's Close",
                "Lisburn Road",
                "Byres Road",
            ]
        };
    let line = format!("{} {}", 1 + r.below(180), r.pick(names));
    if r.per_mille(150) {
        // A flat: the address holds a line break, as CRMs export multi-line addresses.
        format!("Flat {}\n{line}", 1 + r.below(24))
    } else {
        line
    }
}

pub(super) const HOUSE_NAMES: &[&str] = &[
    "Tŷ Gwyn",
    "Bryn Awel",
    "The Old Rectory",
    "Rose Cottage",
    "Hafod",
    "Glan-yr-Afon",
    "Tigh na Mara",
];

pub(super) const SOURCES: &[&str] = &[
    "Online",
    "Direct Debit",
    "Conference",
    "Phone",
    "Branch event",
    "Paper form",
];

pub(super) struct Place {
    pub local_party: &'static str,
    pub town: &'static str,
    pub outward: &'static str,
    pub county: &'static str,
    pub constituency: &'static str,
}

pub(super) struct Region {
    pub name: &'static str,
    pub places: &'static [Place],
}

macro_rules! places {
    ($(($party:expr, $town:expr, $outward:expr, $county:expr, $constituency:expr)),* $(,)?) => {
        &[$(Place {
            local_party: $party,
            town: $town,
            outward: $outward,
            county: $county,
            constituency: $constituency,
        }),*]
    };
}

const REGIONS: &[(u32, Region)] = &[
    (
        5,
        Region {
            name: "Wales",
            places: places![
                (
                    "Cardiff Central",
                    "Cardiff",
                    "CF24",
                    "Cardiff",
                    "Cardiff East"
                ),
                (
                    "Cardiff North",
                    "Cardiff",
                    "CF14",
                    "Cardiff",
                    "Cardiff North"
                ),
                ("Swansea", "Swansea", "SA1", "Swansea", "Swansea West"),
                (
                    "Ceredigion",
                    "Aberystwyth",
                    "SY23",
                    "Ceredigion",
                    "Ceredigion Preseli"
                ),
                ("Arfon", "Bangor", "LL57", "Gwynedd", "Bangor Aberconwy"),
                ("Wrexham", "Wrexham", "LL11", "Wrexham", "Wrexham"),
                (
                    "Newport",
                    "Newport",
                    "NP20",
                    "Newport",
                    "Newport West and Islwyn"
                ),
                (
                    "Caerfyrddin",
                    "Carmarthen",
                    "SA31",
                    "Carmarthenshire",
                    "Caerfyrddin"
                ),
                (
                    "Ynys Môn",
                    "Llangefni",
                    "LL77",
                    "Isle of Anglesey",
                    "Ynys Môn"
                ),
                (
                    "Rhondda",
                    "Tonypandy",
                    "CF40",
                    "Rhondda Cynon Taf",
                    "Rhondda and Ogmore"
                ),
            ],
        },
    ),
    (
        8,
        Region {
            name: "Scotland",
            places: places![
                (
                    "Edinburgh South",
                    "Edinburgh",
                    "EH8",
                    "City of Edinburgh",
                    "Edinburgh South"
                ),
                (
                    "Glasgow West",
                    "Glasgow",
                    "G12",
                    "Glasgow City",
                    "Glasgow West"
                ),
                ("Dundee", "Dundee", "DD1", "Dundee City", "Dundee Central"),
                (
                    "Aberdeen",
                    "Aberdeen",
                    "AB10",
                    "Aberdeen City",
                    "Aberdeen South"
                ),
                (
                    "Inverness",
                    "Inverness",
                    "IV2",
                    "Highland",
                    "Inverness, Skye and West Ross-shire"
                ),
            ],
        },
    ),
    (
        4,
        Region {
            name: "North East",
            places: places![
                (
                    "Newcastle Central",
                    "Newcastle upon Tyne",
                    "NE1",
                    "Tyne and Wear",
                    "Newcastle upon Tyne Central and West"
                ),
                ("Durham", "Durham", "DH1", "County Durham", "City of Durham"),
                (
                    "Sunderland",
                    "Sunderland",
                    "SR1",
                    "Tyne and Wear",
                    "Sunderland Central"
                ),
            ],
        },
    ),
    (
        11,
        Region {
            name: "North West",
            places: places![
                (
                    "Manchester Rusholme",
                    "Manchester",
                    "M14",
                    "Greater Manchester",
                    "Manchester Rusholme"
                ),
                (
                    "Liverpool Riverside",
                    "Liverpool",
                    "L8",
                    "Merseyside",
                    "Liverpool Riverside"
                ),
                (
                    "Lancaster",
                    "Lancaster",
                    "LA1",
                    "Lancashire",
                    "Lancaster and Wyre"
                ),
                ("Preston", "Preston", "PR1", "Lancashire", "Preston"),
            ],
        },
    ),
    (
        8,
        Region {
            name: "Yorkshire and the Humber",
            places: places![
                (
                    "Leeds Central",
                    "Leeds",
                    "LS6",
                    "West Yorkshire",
                    "Leeds Central and Headingley"
                ),
                (
                    "Sheffield Hallam",
                    "Sheffield",
                    "S10",
                    "South Yorkshire",
                    "Sheffield Hallam"
                ),
                (
                    "Hull West",
                    "Hull",
                    "HU5",
                    "East Riding of Yorkshire",
                    "Kingston upon Hull West and Haltemprice"
                ),
                ("York", "York", "YO10", "North Yorkshire", "York Central"),
                (
                    "Bradford West",
                    "Bradford",
                    "BD7",
                    "West Yorkshire",
                    "Bradford West"
                ),
            ],
        },
    ),
    (
        7,
        Region {
            name: "East Midlands",
            places: places![
                (
                    "Nottingham East",
                    "Nottingham",
                    "NG7",
                    "Nottinghamshire",
                    "Nottingham East"
                ),
                (
                    "Leicester South",
                    "Leicester",
                    "LE2",
                    "Leicestershire",
                    "Leicester South"
                ),
                ("Derby", "Derby", "DE22", "Derbyshire", "Derby South"),
            ],
        },
    ),
    (
        9,
        Region {
            name: "West Midlands",
            places: places![
                (
                    "Birmingham Selly Oak",
                    "Birmingham",
                    "B29",
                    "West Midlands",
                    "Birmingham Selly Oak"
                ),
                (
                    "Coventry",
                    "Coventry",
                    "CV1",
                    "West Midlands",
                    "Coventry South"
                ),
                (
                    "Stoke Central",
                    "Stoke-on-Trent",
                    "ST4",
                    "Staffordshire",
                    "Stoke-on-Trent Central"
                ),
            ],
        },
    ),
    (
        9,
        Region {
            name: "East of England",
            places: places![
                (
                    "Norwich South",
                    "Norwich",
                    "NR2",
                    "Norfolk",
                    "Norwich South"
                ),
                (
                    "Cambridge",
                    "Cambridge",
                    "CB1",
                    "Cambridgeshire",
                    "Cambridge"
                ),
                ("Ipswich", "Ipswich", "IP1", "Suffolk", "Ipswich"),
            ],
        },
    ),
    (
        14,
        Region {
            name: "London",
            places: places![
                (
                    "Hackney",
                    "London",
                    "E8",
                    "Greater London",
                    "Hackney South and Shoreditch"
                ),
                (
                    "Islington",
                    "London",
                    "N1",
                    "Greater London",
                    "Islington North"
                ),
                (
                    "Lambeth",
                    "London",
                    "SE11",
                    "Greater London",
                    "Vauxhall and Camberwell Green"
                ),
                (
                    "Camden",
                    "London",
                    "NW1",
                    "Greater London",
                    "Holborn and St Pancras"
                ),
                (
                    "Tower Hamlets",
                    "London",
                    "E1",
                    "Greater London",
                    "Bethnal Green and Stepney"
                ),
                (
                    "Croydon",
                    "Croydon",
                    "CR0",
                    "Greater London",
                    "Croydon East"
                ),
                ("Brent", "London", "NW10", "Greater London", "Brent East"),
                ("Southwark", "London", "SE15", "Greater London", "Peckham"),
                ("Haringey", "London", "N17", "Greater London", "Tottenham"),
            ],
        },
    ),
    (
        14,
        Region {
            name: "South East",
            places: places![
                (
                    "Brighton Pavilion",
                    "Brighton",
                    "BN1",
                    "East Sussex",
                    "Brighton Pavilion"
                ),
                ("Oxford East", "Oxford", "OX4", "Oxfordshire", "Oxford East"),
                ("Reading", "Reading", "RG1", "Berkshire", "Reading Central"),
                (
                    "Southampton",
                    "Southampton",
                    "SO14",
                    "Hampshire",
                    "Southampton Test"
                ),
                ("Canterbury", "Canterbury", "CT1", "Kent", "Canterbury"),
            ],
        },
    ),
    (
        9,
        Region {
            name: "South West",
            places: places![
                (
                    "Bristol East",
                    "Bristol",
                    "BS5",
                    "City of Bristol",
                    "Bristol East"
                ),
                ("Exeter", "Exeter", "EX4", "Devon", "Exeter"),
                (
                    "Plymouth Sutton",
                    "Plymouth",
                    "PL4",
                    "Devon",
                    "Plymouth Sutton and Devonport"
                ),
                ("Bath", "Bath", "BA1", "Somerset", "Bath"),
                ("Stroud", "Stroud", "GL5", "Gloucestershire", "Stroud"),
            ],
        },
    ),
    (
        2,
        Region {
            name: "Northern Ireland",
            places: places![
                (
                    "Belfast South",
                    "Belfast",
                    "BT7",
                    "County Antrim",
                    "Belfast South and Mid Down"
                ),
                ("Foyle", "Derry", "BT48", "County Londonderry", "Foyle"),
                ("South Down", "Newry", "BT34", "County Down", "South Down"),
            ],
        },
    ),
];

pub(super) fn pick_region(r: &mut Rng, culture: Culture) -> &'static Region {
    let find = |name: &str| {
        &REGIONS
            .iter()
            .find(|(_, reg)| reg.name == name)
            .expect("region")
            .1
    };
    match culture {
        Culture::Welsh if r.per_mille(800) => find("Wales"),
        Culture::Irish if r.per_mille(400) => find("Northern Ireland"),
        _ => r.weighted(REGIONS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_names_for_emails() {
        assert_eq!(ascii_fold("Łukasz"), "lukasz");
        assert_eq!(ascii_fold("O'Neill"), "oneill");
        assert_eq!(ascii_fold("Siân ap Gwilym"), "sianapgwilym");
    }
}
