//! Unit tests of `editscope::fixtures::generate::rng`: the generator's seeded PRNG.

use editscope::fixtures::generate::rng::Rng;

#[test]
fn same_seed_same_stream_and_ranges_hold() {
    let mut a = Rng::new(7);
    let mut b = Rng::new(7);
    for _ in 0..100 {
        assert_eq!(a.next_u64(), b.next_u64());
    }
    let mut r = Rng::derive(1, 2);
    for _ in 0..1000 {
        let v = r.range(-3, 4);
        assert!((-3..=4).contains(&v));
        let s = r.step_range(90, 150, 15);
        assert!(s % 15 == 0 && (90..=150).contains(&s));
    }
    assert_eq!(r.hex(20).len(), 20);
    assert_ne!(Rng::derive(1, 2).next_u64(), Rng::derive(1, 3).next_u64());
}
