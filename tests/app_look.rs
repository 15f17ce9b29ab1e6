//! How the app looks to people who cannot rely on colour: NO_COLOR, the high-contrast theme, and
//! marks that are not colour alone.

mod app_common;

use app_common::*;
use ratatui::style::{Color, Modifier};
use rollcall::app::theme::Theme;
use rollcall::storage::Store;

#[test]
fn no_color_draws_without_a_single_colour() {
    let theme = Theme::select(Some("high-contrast"), Some("1"), None).unwrap();
    let mut h = Harness::with(
        member_store(),
        Options {
            theme,
            ..Options::default()
        },
    );
    h.type_text("?");
    h.screen();
    let buffer = h.terminal.backend().buffer().clone();
    for cell in buffer.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "a coloured cell {:?} under NO_COLOR",
            cell
        );
    }
    // The active tab is still told apart: reversed and bracketed.
    let tab = &buffer[(0, 0)];
    assert_eq!(tab.symbol(), "[");
    assert!(tab.modifier.contains(Modifier::REVERSED));
}

#[test]
fn the_high_contrast_theme_loads_and_draws() {
    let theme = Theme::select(Some("high-contrast"), None, None).unwrap();
    assert_ne!(theme, Theme::default());
    let mut h = Harness::with(
        Store::open_in_memory().unwrap(),
        Options {
            theme,
            ..Options::default()
        },
    );
    let screen = h.screen();
    assert!(screen.contains("[0 Today]"));
    let cell = &h.terminal.backend().buffer()[(10, 5)];
    assert_eq!(cell.bg, Color::Black, "white on black");
}
