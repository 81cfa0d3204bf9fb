//! Unit tests of `editscope::tui::keys`: key lookup by context and the binding table.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use editscope::tui::PanelId;
use editscope::tui::keys::{Action, BINDINGS, KeyContext, lookup};

#[test]
fn shifted_characters_match_their_binding() {
    let key = KeyEvent::new(KeyCode::Char('L'), KeyModifiers::SHIFT);
    assert_eq!(
        lookup(&[KeyContext::Normal], &key),
        Some(Action::PresetLegacy)
    );
    let key = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
    assert_eq!(lookup(&[KeyContext::Normal], &key), Some(Action::Help));
}

#[test]
fn the_most_specific_context_wins() {
    let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
    let ctx = [KeyContext::Panel(PanelId::Memory), KeyContext::Normal];
    assert_eq!(lookup(&ctx, &enter), Some(Action::Open));
    let ctx = [KeyContext::Panel(PanelId::Edit), KeyContext::Normal];
    assert_eq!(lookup(&ctx, &enter), Some(Action::EnterInput));
}

#[test]
fn no_key_is_bound_twice_in_one_context() {
    for (i, a) in BINDINGS.iter().enumerate() {
        for b in &BINDINGS[i + 1..] {
            assert!(
                !(a.context == b.context && a.code == b.code && a.modifiers == b.modifiers),
                "{} bound twice in {:?}",
                a.label,
                a.context
            );
        }
    }
}
