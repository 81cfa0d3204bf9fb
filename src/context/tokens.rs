//! Token counting with tiktoken's cl100k_base, embedded in the binary: works offline.

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

fn encoder() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().ok()).as_ref()
}

/// Number of cl100k tokens in `text`. Falls back to a 4-characters-per-token estimate only if
/// the embedded encoding cannot load, which would be a build fault.
pub fn count(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    match encoder() {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        None => text.len().div_ceil(4),
    }
}

/// [`count`] with a process-wide memo keyed by a hash of the text: scene code is counted once
/// per version, not on every request.
pub fn count_cached(text: &str) -> usize {
    use std::hash::{Hash, Hasher};
    static MEMO: OnceLock<moka::sync::Cache<u64, usize>> = OnceLock::new();
    let memo = MEMO.get_or_init(|| moka::sync::Cache::new(100_000));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let key = h.finish();
    if let Some(n) = memo.get(&key) {
        return n;
    }
    let n = count(text);
    memo.insert(key, n);
    n
}
