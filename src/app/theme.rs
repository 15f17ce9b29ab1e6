//! Colours and emphasis, by role. Panes style through these fields and never name a colour, so
//! `NO_COLOR`, the high-contrast theme and a user's theme.toml reach every pane.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub base: Style,
    pub title: Style,
    pub border: Style,
    pub active_tab: Style,
    pub inactive_tab: Style,
    pub header: Style,
    /// The highlighted row. Always reversed or bold as well as coloured, and drawn with a marker.
    pub selected: Style,
    /// Rows picked with Space for a bulk action.
    pub marked: Style,
    pub dim: Style,
    pub warning: Style,
    pub danger: Style,
    pub ok: Style,
    pub badge: Style,
    pub hint_key: Style,
    pub hint_text: Style,
    pub status_bar: Style,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme {
            base: Style::default(),
            title: Style::default().add_modifier(Modifier::BOLD),
            border: Style::default().fg(Color::DarkGray),
            active_tab: Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            inactive_tab: Style::default(),
            header: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            marked: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            dim: Style::default().fg(Color::DarkGray),
            warning: Style::default().fg(Color::Yellow),
            danger: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ok: Style::default().fg(Color::Green),
            badge: Style::default().fg(Color::Magenta),
            hint_key: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            hint_text: Style::default().fg(Color::Gray),
            status_bar: Style::default().fg(Color::Black).bg(Color::Gray),
        }
    }
}

impl Theme {
    /// No colour at all (`NO_COLOR`): emphasis only through bold, reverse and underline.
    pub fn monochrome() -> Theme {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        Theme {
            base: Style::default(),
            title: bold,
            border: Style::default(),
            active_tab: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            inactive_tab: Style::default(),
            header: bold.add_modifier(Modifier::UNDERLINED),
            selected: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            marked: bold,
            dim: Style::default(),
            warning: bold,
            danger: bold.add_modifier(Modifier::UNDERLINED),
            ok: Style::default(),
            badge: bold,
            hint_key: bold,
            hint_text: Style::default(),
            status_bar: Style::default().add_modifier(Modifier::REVERSED),
        }
    }
}

// ---------------------------------------------------------------- theme files

/// The default theme as shipped in `assets/theme.toml` (equal to [`Theme::default`]).
pub const DEFAULT_THEME: &str = include_str!("../../assets/theme.toml");
/// `assets/theme-high-contrast.toml`.
pub const HIGH_CONTRAST_THEME: &str = include_str!("../../assets/theme-high-contrast.toml");

/// One style in a theme file: `{ fg = "cyan", bg = "#202020", modifiers = ["bold"] }`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<toml::Spanned<String>>,
    bg: Option<toml::Spanned<String>>,
    modifiers: Option<toml::Spanned<Vec<String>>>,
}

macro_rules! theme_file {
    ($($field:ident),* $(,)?) => {
        /// A theme file: any of the theme's roles, each replacing that role of the theme below.
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            $($field: Option<StyleSpec>,)*
        }

        impl ThemeFile {
            fn apply(self, theme: &mut Theme, text: &str, origin: &str) -> anyhow::Result<()> {
                $(
                    if let Some(spec) = self.$field {
                        theme.$field = spec.to_style(stringify!($field), text, origin)?;
                    }
                )*
                Ok(())
            }
        }
    };
}

theme_file!(
    base,
    title,
    border,
    active_tab,
    inactive_tab,
    header,
    selected,
    marked,
    dim,
    warning,
    danger,
    ok,
    badge,
    hint_key,
    hint_text,
    status_bar,
);

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
    ("slow_blink", Modifier::SLOW_BLINK),
];

impl StyleSpec {
    fn to_style(&self, role: &str, text: &str, origin: &str) -> anyhow::Result<Style> {
        let at = |span: std::ops::Range<usize>| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{origin}: line {line}: [{role}]")
        };
        let color = |c: &toml::Spanned<String>, which: &str| {
            c.get_ref().parse::<Color>().map_err(|_| {
                anyhow::anyhow!(
                    "{} {which} = {:?} is not a colour; use a name (black, red, green, yellow, \
                     blue, magenta, cyan, gray, dark gray, white, light red, ..., reset), \
                     #rrggbb or a number 0-255",
                    at(c.span()),
                    c.get_ref()
                )
            })
        };
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(color(fg, "fg")?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(color(bg, "bg")?);
        }
        for name in self.modifiers.iter().flat_map(|m| m.get_ref()) {
            let Some((_, m)) = MODIFIERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
                let names: Vec<_> = MODIFIERS.iter().map(|(n, _)| *n).collect();
                anyhow::bail!(
                    "{} `{name}` is not a modifier; use {}",
                    at(self.modifiers.as_ref().map_or(0..0, |m| m.span())),
                    names.join(", ")
                );
            };
            style = style.add_modifier(*m);
        }
        Ok(style)
    }
}

impl Theme {
    /// `text` (a theme file named `origin` in messages) over `base`: roles it names replace the
    /// base's. Errors name the file and line. The selected row keeps reverse or bold whatever
    /// the file says, so it is never marked by colour alone.
    pub fn parse_over(base: &Theme, text: &str, origin: &str) -> anyhow::Result<Theme> {
        let file: ThemeFile = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{origin}: {}", e.to_string().trim_end()))?;
        let mut theme = base.clone();
        file.apply(&mut theme, text, origin)?;
        if !theme
            .selected
            .add_modifier
            .intersects(Modifier::REVERSED | Modifier::BOLD)
        {
            theme.selected = theme.selected.add_modifier(Modifier::REVERSED);
        }
        Ok(theme)
    }

    /// The theme to run with: `NO_COLOR` (set and non-empty) wins; otherwise `ui.theme`
    /// (`default`, `high-contrast` or a path, relative to the config directory), then the user's
    /// `theme.toml` in `config_dir` over it.
    pub fn select(
        ui_theme: Option<&str>,
        no_color: Option<&str>,
        config_dir: Option<&std::path::Path>,
    ) -> anyhow::Result<Theme> {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return Ok(Theme::monochrome());
        }
        let theme = match ui_theme.unwrap_or("default") {
            "default" => Theme::parse_over(&Theme::default(), DEFAULT_THEME, "assets/theme.toml")?,
            "high-contrast" => Theme::parse_over(
                &Theme::default(),
                HIGH_CONTRAST_THEME,
                "assets/theme-high-contrast.toml",
            )?,
            path => {
                let path = match config_dir {
                    Some(dir) => dir.join(path),
                    None => std::path::PathBuf::from(path),
                };
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!(
                        "ui.theme: cannot read the theme {} ({e}); use `default`, \
                         `high-contrast` or the path of a theme file",
                        path.display()
                    )
                })?;
                Theme::parse_over(&Theme::default(), &text, &path.display().to_string())?
            }
        };
        let user_file = config_dir
            .map(|d| d.join("theme.toml"))
            .filter(|p| p.exists());
        match user_file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                Theme::parse_over(&theme, &text, &path.display().to_string())
            }
            None => Ok(theme),
        }
    }

    /// [`Theme::select`] with the real environment and config directory.
    pub fn load(ui: &crate::config::UiConfig) -> anyhow::Result<Theme> {
        let no_color = std::env::var("NO_COLOR").ok();
        let dir = crate::cli::config_dir();
        Theme::select(ui.theme.as_deref(), no_color.as_deref(), dir.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_is_the_default_theme_in_full() {
        // Over a base with nothing in it, so that a role missing from the file shows up.
        let t = Theme::parse_over(&Theme::monochrome(), DEFAULT_THEME, "theme.toml").unwrap();
        assert_eq!(t, Theme::default());
        let hc = Theme::parse_over(&Theme::monochrome(), HIGH_CONTRAST_THEME, "hc").unwrap();
        assert!(hc.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn no_color_wins_and_empty_no_color_does_not() {
        let t = Theme::select(Some("high-contrast"), Some("1"), None).unwrap();
        assert_eq!(t, Theme::monochrome());
        let t = Theme::select(None, Some(""), None).unwrap();
        assert_eq!(t, Theme::default());
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = Theme::parse_over(
            &Theme::default(),
            "[title]\nfg = \"chartreuse-ish\"\n",
            "my.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("my.toml: line 2: [title] fg"), "{err}");
        let err = Theme::parse_over(&Theme::default(), "\n[titel]\nfg = \"red\"\n", "my.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("my.toml") && err.contains("line 2") && err.contains("titel"),
            "{err}"
        );
        let err = Theme::parse_over(&Theme::default(), "[dim]\nmodifiers = [\"blinky\"]\n", "m")
            .unwrap_err()
            .to_string();
        assert!(err.contains("m: line 2: [dim] `blinky`"), "{err}");
    }

    #[test]
    fn a_user_file_changes_only_what_it_names_and_cannot_unmark_selection() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("theme.toml"),
            "[selected]\nfg = \"yellow\"\n[warning]\nfg = \"#ff8800\"\n",
        )
        .unwrap();
        let t = Theme::select(None, None, Some(dir.path())).unwrap();
        assert_eq!(t.warning, Style::default().fg(Color::Rgb(0xff, 0x88, 0)));
        assert_eq!(t.title, Theme::default().title);
        assert!(t.selected.add_modifier.contains(Modifier::REVERSED));
        let err = Theme::select(Some("nope.toml"), None, Some(dir.path())).unwrap_err();
        assert!(err.to_string().contains("ui.theme"), "{err}");
    }
}
