//! Styles. Colors only ever add to a cue that is also carried by a modifier or a character:
//! crossterm drops colors under `NO_COLOR`, and a selection must still be visible then.

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, BorderType, Borders};

/// The selected row of a list or table: reversed, so it shows with no colors at all.
pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
}

/// Something the user should look at (rows written by the last run, the last edit's target).
pub fn marked() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn error() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

pub fn warning() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn ok() -> Style {
    Style::new().fg(Color::Green)
}

pub fn dim() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

pub fn heading() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// Bars of stages measured on the wall clock.
pub fn real_bar() -> Style {
    Style::new().fg(Color::Cyan)
}

/// Bars of stages whose time is modeled by the offline backend.
pub fn simulated_bar() -> Style {
    Style::new().fg(Color::Magenta)
}

pub fn diff_added() -> Style {
    Style::new().fg(Color::Green)
}

pub fn diff_removed() -> Style {
    Style::new().fg(Color::Red)
}

pub fn diff_hunk() -> Style {
    Style::new().fg(Color::Cyan)
}

/// A panel's frame. The focused panel gets a double border and a bold title, which survive
/// `NO_COLOR`; the color is a bonus.
pub fn panel<'a>(title: impl Into<ratatui::text::Line<'a>>, focused: bool) -> Block<'a> {
    let block = Block::new().borders(Borders::ALL).title(title);
    if focused {
        block
            .border_type(BorderType::Double)
            .border_style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD))
            .title_style(Style::new().add_modifier(Modifier::BOLD))
    } else {
        block.border_type(BorderType::Plain)
    }
}
