//! Unit tests of `editscope::context::Flags`: parsing presets and flag lists.

use editscope::context::Flags;

#[test]
fn parses_presets_and_lists() {
    assert_eq!(
        Flags::parse("legacy", Flags::OPTIMIZED).unwrap(),
        Flags::LEGACY
    );
    let f = Flags::parse("cache,memory", Flags::OPTIMIZED).unwrap();
    assert!(f.cache && f.memory && !f.lazy && !f.parallel);
    let f = Flags::parse("-parallel", Flags::OPTIMIZED).unwrap();
    assert!(!f.parallel && f.cache && f.relevant);
    let f = Flags::parse("optimized,-cache", Flags::LEGACY).unwrap();
    assert!(!f.cache && f.memory);
    assert!(Flags::parse("turbo", Flags::LEGACY).is_err());
    assert_eq!(Flags::all_combinations().count(), 64);
    assert_eq!(
        Flags::parse(&Flags::OPTIMIZED.to_string(), Flags::LEGACY).unwrap(),
        Flags::OPTIMIZED
    );
    let f = Flags::parse("cache,lazy", Flags::LEGACY).unwrap();
    assert_eq!(Flags::parse(&f.to_string(), Flags::OPTIMIZED).unwrap(), f);
}
