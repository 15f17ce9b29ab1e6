//! Letters as one print-ready PDF: A4, a page per member, the address placed for a window
//! envelope, in DejaVu Sans embedded in the file.
//!
//! ## Layout (millimetres from the top-left corner of the A4 sheet)
//! - Letterhead: sender name and return address, right-aligned at 190 mm, from 18 mm down.
//! - Envelope window: 20 mm from the left, 45 mm to 85 mm from the top, 90 mm wide. That is the
//!   window of a DL or C5 window envelope (90 × 35–45 mm, 20 mm in, 45–50 mm down) with a few
//!   millimetres for the sheet moving in the envelope. In it: the return address in 6.5 pt on
//!   one line (baseline 49 mm), then the recipient's address from baseline 55 mm, 10 pt, 4.6 mm
//!   apart, at most seven lines (the last at 82.6 mm).
//! - Fold marks for a DL envelope (A4 folded in three): 5 mm ticks at the left edge, 99 mm and
//!   198 mm down.
//! - Date right-aligned at 190 mm, baseline 95 mm; subject at 20 mm, baseline 108 mm, 12 pt.
//! - Body from 118 mm down to 280 mm, 20 mm margins (170 mm lines), 10 pt on a 1.3 leading. A
//!   letter too long for that is set smaller, down to 8 pt, so that it keeps to one page; only
//!   beyond that does it run on to a second page.
//!
//! ## The font
//! DejaVu Sans (assets/fonts, Bitstream Vera licence, which allows embedding) holds every Welsh
//! letter (ŵ ŷ â ê î ô û ï ë) and the Latin, Greek and Cyrillic names CRM exports carry (Ł, ő,
//! Ö, ș). It is embedded whole as a CID TrueType font (Identity-H, glyph id = CID), with a
//! ToUnicode map so that text can be copied and searched. Whole rather than subset: a subsetter
//! would bring in a font-compilation stack several times the size of this module, and the font
//! costs about 0.4 MB once per file (compressed), not per page.

use std::collections::{BTreeMap, HashMap};

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use ttf_parser::{Face, GlyphId};

/// DejaVu Sans, compiled in so the binary needs no font installed.
pub const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

const MM: f32 = 72.0 / 25.4;
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const LEFT: f32 = 20.0 * MM;
const RIGHT: f32 = 190.0 * MM;
const LETTERHEAD_TOP: f32 = 18.0 * MM;
const LETTERHEAD_SIZE: f32 = 9.0;
const RETURN_LINE: f32 = 49.0 * MM;
const RETURN_SIZE: f32 = 6.5;
const ADDRESS_TOP: f32 = 55.0 * MM;
const ADDRESS_STEP: f32 = 4.6 * MM;
const ADDRESS_SIZE: f32 = 10.0;
/// Lines that fit in the window; more are joined onto the last.
const ADDRESS_LINES: usize = 7;
const WINDOW_WIDTH: f32 = 90.0 * MM;
const FOLDS: [f32; 2] = [99.0 * MM, 198.0 * MM];
const DATE_LINE: f32 = 95.0 * MM;
const SUBJECT_LINE: f32 = 108.0 * MM;
const SUBJECT_SIZE: f32 = 12.0;
const BODY_TOP: f32 = 118.0 * MM;
const BODY_BOTTOM: f32 = 280.0 * MM;
const CONTINUED_TOP: f32 = 25.0 * MM;
const BODY_SIZES: [f32; 5] = [10.0, 9.5, 9.0, 8.5, 8.0];
const LEADING: f32 = 1.3;

const FONT_NAME: Name<'static> = Name(b"F1");
const BASE_FONT: Name<'static> = Name(b"DejaVuSans");

/// What is printed the same on every letter.
#[derive(Debug, Clone, Default)]
pub struct Letterhead {
    pub sender_name: String,
    pub sender_address: Vec<String>,
}

/// One member's letter, ready to lay out.
#[derive(Debug, Clone)]
pub struct PageText<'a> {
    pub address: &'a [String],
    pub date: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// A glyph and its advance (in font units).
#[derive(Clone, Copy)]
struct Glyph {
    id: u16,
    advance: u16,
}

/// A PDF of letters being built; [`LetterPdf::finish`] gives the bytes.
pub struct LetterPdf {
    face: Face<'static>,
    units_per_em: f32,
    glyphs: HashMap<char, Glyph>,
    /// Every glyph used, with the character it shows (for ToUnicode).
    used: BTreeMap<u16, char>,
    letterhead: Letterhead,
    pdf: Pdf,
    next_id: i32,
    pages: Vec<Ref>,
}

const CATALOG: Ref = Ref::new(1);
const PAGE_TREE: Ref = Ref::new(2);
const TYPE0: Ref = Ref::new(3);
const CID_FONT: Ref = Ref::new(4);
const DESCRIPTOR: Ref = Ref::new(5);
const FONT_FILE: Ref = Ref::new(6);
const TO_UNICODE: Ref = Ref::new(7);

impl LetterPdf {
    pub fn new(letterhead: Letterhead) -> LetterPdf {
        let face = Face::parse(FONT, 0).expect("the embedded DejaVu Sans parses");
        LetterPdf {
            units_per_em: f32::from(face.units_per_em()),
            face,
            glyphs: HashMap::new(),
            used: BTreeMap::new(),
            letterhead,
            pdf: Pdf::new(),
            next_id: 8,
            pages: Vec::new(),
        }
    }

    /// Pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn glyph(&mut self, c: char) -> Glyph {
        if let Some(g) = self.glyphs.get(&c) {
            return *g;
        }
        let id = self.face.glyph_index(c).unwrap_or(GlyphId(0));
        let g = Glyph {
            id: id.0,
            advance: self.face.glyph_hor_advance(id).unwrap_or(0),
        };
        self.glyphs.insert(c, g);
        g
    }

    fn width(&mut self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.glyph(c).advance)).sum();
        units as f32 * size / self.units_per_em
    }

    /// `text` as the two-byte glyph ids Identity-H shows, noting each glyph used.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars().filter(|c| !c.is_control()) {
            let g = self.glyph(c);
            self.used.entry(g.id).or_insert(c);
            out.extend_from_slice(&g.id.to_be_bytes());
        }
        out
    }

    /// Writes `text` with its baseline `down` points from the top of the page.
    fn text_at(&mut self, content: &mut Content, x: f32, down: f32, size: f32, text: &str) {
        let bytes = self.encode(text);
        content
            .begin_text()
            .set_font(FONT_NAME, size)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, x, PAGE_HEIGHT - down])
            .show(Str(&bytes))
            .end_text();
    }

    fn right_aligned(&mut self, content: &mut Content, down: f32, size: f32, text: &str) {
        let x = RIGHT - self.width(text, size);
        self.text_at(content, x, down, size, text);
    }

    /// Lays `text` into lines no wider than `width` at `size`, breaking at spaces (a word
    /// longer than a line stands on its own line).
    fn wrap(&mut self, text: &str, size: f32, width: f32) -> Vec<String> {
        let space = self.width(" ", size);
        let mut lines = Vec::new();
        for paragraph in text.lines() {
            let mut line = String::new();
            let mut line_width = 0.0;
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let w = self.width(word, size);
                if !line.is_empty() && line_width + space + w > width {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                if !line.is_empty() {
                    line.push(' ');
                    line_width += space;
                }
                line.push_str(word);
                line_width += w;
            }
            lines.push(line);
        }
        lines
    }

    /// The body's size and lines: the largest size at which it fits the first page.
    fn fit_body(&mut self, body: &str) -> (f32, Vec<String>) {
        let room = BODY_BOTTOM - BODY_TOP;
        let mut last = (0.0, Vec::new());
        for size in BODY_SIZES {
            let lines = self.wrap(body, size, RIGHT - LEFT);
            let fits = lines.len() as f32 * size * LEADING <= room;
            last = (size, lines);
            if fits {
                break;
            }
        }
        last
    }

    fn letterhead(&mut self, content: &mut Content) {
        let mut lines = vec![self.letterhead.sender_name.clone()];
        lines.extend(self.letterhead.sender_address.iter().cloned());
        lines.retain(|l| !l.trim().is_empty());
        for (i, line) in lines.iter().enumerate() {
            let down = LETTERHEAD_TOP + i as f32 * LETTERHEAD_SIZE * LEADING;
            self.right_aligned(content, down, LETTERHEAD_SIZE, line);
        }
        if lines.len() > 1 {
            // Royal Mail returns undeliverable post to the address above the recipient's.
            let mut line = lines.join(", ");
            while line.chars().count() > 1 && self.width(&line, RETURN_SIZE) > WINDOW_WIDTH {
                line.pop();
            }
            self.text_at(content, LEFT, RETURN_LINE, RETURN_SIZE, &line);
        }
        content.set_line_width(0.3);
        for fold in FOLDS {
            content
                .move_to(3.0 * MM, PAGE_HEIGHT - fold)
                .line_to(8.0 * MM, PAGE_HEIGHT - fold)
                .stroke();
        }
    }

    /// Adds one member's letter: one page, or more if even the smallest size overflows.
    pub fn add(&mut self, letter: &PageText) {
        let mut content = Content::new();
        self.letterhead(&mut content);
        for (i, line) in window_lines(letter.address).iter().enumerate() {
            let down = ADDRESS_TOP + i as f32 * ADDRESS_STEP;
            self.text_at(&mut content, LEFT, down, ADDRESS_SIZE, line);
        }
        self.right_aligned(&mut content, DATE_LINE, ADDRESS_SIZE, letter.date);
        let subject_lines = self.wrap(letter.subject, SUBJECT_SIZE, RIGHT - LEFT);
        let subject = subject_lines.first().map(String::as_str).unwrap_or("");
        self.text_at(&mut content, LEFT, SUBJECT_LINE, SUBJECT_SIZE, subject);
        let (size, lines) = self.fit_body(letter.body);
        let mut down = BODY_TOP;
        for line in lines {
            if down > BODY_BOTTOM {
                self.write_page(content);
                content = Content::new();
                down = CONTINUED_TOP;
            }
            self.text_at(&mut content, LEFT, down, size, &line);
            down += size * LEADING;
        }
        self.write_page(content);
    }

    fn alloc(&mut self) -> Ref {
        let r = Ref::new(self.next_id);
        self.next_id += 1;
        r
    }

    fn write_page(&mut self, content: Content) {
        let page = self.alloc();
        let stream = self.alloc();
        let data = compress_to_vec_zlib(&content.finish(), 6);
        self.pdf.stream(stream, &data).filter(Filter::FlateDecode);
        let mut p = self.pdf.page(page);
        p.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(PAGE_TREE)
            .contents(stream);
        p.resources().fonts().pair(FONT_NAME, TYPE0);
        p.finish();
        self.pages.push(page);
    }

    /// The finished PDF.
    pub fn finish(mut self) -> Vec<u8> {
        self.pdf.catalog(CATALOG).pages(PAGE_TREE);
        self.pdf
            .pages(PAGE_TREE)
            .kids(self.pages.iter().copied())
            .count(self.pages.len() as i32);
        self.write_font();
        self.pdf.finish()
    }

    fn write_font(&mut self) {
        let scale = 1000.0 / self.units_per_em;
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        self.pdf
            .type0_font(TYPE0)
            .base_font(BASE_FONT)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(CID_FONT)
            .to_unicode(TO_UNICODE);
        let widths: Vec<(u16, f32)> = self
            .used
            .keys()
            .map(|&id| {
                let advance = self.face.glyph_hor_advance(GlyphId(id)).unwrap_or(0);
                (id, f32::from(advance) * scale)
            })
            .collect();
        let mut cid = self.pdf.cid_font(CID_FONT);
        cid.subtype(CidFontType::Type2)
            .base_font(BASE_FONT)
            .system_info(info)
            .font_descriptor(DESCRIPTOR)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut w = cid.widths();
        for (id, width) in widths {
            w.consecutive(id, [width]);
        }
        w.finish();
        cid.finish();

        let b = self.face.global_bounding_box();
        let s = |v: i16| f32::from(v) * scale;
        self.pdf
            .font_descriptor(DESCRIPTOR)
            .name(BASE_FONT)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(s(b.x_min), s(b.y_min), s(b.x_max), s(b.y_max)))
            .italic_angle(0.0)
            .ascent(s(self.face.ascender()))
            .descent(s(self.face.descender()))
            .cap_height(s(self
                .face
                .capital_height()
                .unwrap_or(self.face.ascender())))
            .stem_v(80.0)
            .font_file2(FONT_FILE);

        let font = compress_to_vec_zlib(FONT, 6);
        self.pdf
            .stream(FONT_FILE, &font)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), FONT.len() as i32);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), info);
        for (&id, &c) in &self.used {
            cmap.pair(id, c);
        }
        let cmap = cmap.finish();
        self.pdf.cmap(TO_UNICODE, &cmap);
    }
}

/// The address as it fits the window: at most [`ADDRESS_LINES`], the overflow joined onto the
/// last line so nothing is lost.
fn window_lines(address: &[String]) -> Vec<String> {
    if address.len() <= ADDRESS_LINES {
        return address.to_vec();
    }
    let mut lines = address[..ADDRESS_LINES - 1].to_vec();
    lines.push(address[ADDRESS_LINES - 1..].join(", "));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_holds_every_welsh_letter_and_the_names_exports_carry() {
        let face = Face::parse(FONT, 0).unwrap();
        for c in "ŵŷâêîôûïëŴŶÂÊÎÔÛÏáéíóúàèìòùäöüÿŁłŐőŰűÖöŠšŽžĆćȘșȚțĞğİıÇçÑñßØøÅåÆæ".chars()
        {
            assert!(face.glyph_index(c).is_some(), "no glyph for {c}");
        }
    }

    #[test]
    fn a_long_address_keeps_every_part_within_the_window_lines() {
        let address: Vec<String> = (1..=9).map(|i| format!("line {i}")).collect();
        let lines = window_lines(&address);
        assert_eq!(lines.len(), ADDRESS_LINES);
        assert_eq!(lines.last().unwrap(), "line 7, line 8, line 9");
    }

    #[test]
    fn the_address_sits_in_a_dl_window() {
        let last = ADDRESS_TOP + (ADDRESS_LINES - 1) as f32 * ADDRESS_STEP;
        assert!(RETURN_LINE > 45.0 * MM && last < 85.0 * MM);
        assert!((LEFT / MM - 20.0).abs() < 0.01);
    }
}
