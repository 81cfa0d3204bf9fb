//! Token counting with tiktoken's cl100k_base, embedded in the binary: works offline.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

fn encoder() -> Option<&'static CoreBPE> {
    ENCODER
        .get_or_init(|| {
            // tiktoken builds its tables at first use: about 100 ms. A context served from a
            // snapshot should not get here (the snapshot carries the counts it needs).
            tracing::debug!("loading the cl100k tokenizer");
            tiktoken_rs::cl100k_base().ok()
        })
        .as_ref()
}

static ENCODER: OnceLock<Option<CoreBPE>> = OnceLock::new();

/// Starts loading the tokenizer on a thread of its own, so that a build that will count (a
/// cache miss) finds it loaded, or loading, when it gets there; does nothing once started.
pub fn preload() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        if ENCODER.get().is_none() {
            let _ = std::thread::Builder::new()
                .name("editscope-tokenizer".into())
                .spawn(|| {
                    encoder();
                });
        }
    });
}

/// The tokenizer's name, as stored beside counts kept in the store (`token_counts`).
pub const TOKENIZER: &str = "cl100k_base";

/// Whether this process has loaded the tokenizer: counting is then cheap, and a count kept in
/// the store is not worth a query.
pub fn is_loaded() -> bool {
    ENCODER.get().is_some()
}

/// The memo's count for a key, if it has one (nothing is counted).
pub fn memo_get(key: u64) -> Option<usize> {
    memo().get(key)
}

/// Loads the tokenizer now and waits for it (a comparison loads it before its runs, so that
/// neither pays the process's one-time start-up).
pub fn load() {
    encoder();
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

/// The cl100k tokens of `text` (what a provider's prompt cache compares). Falls back to one
/// pseudo-token per 4 bytes only if the embedded encoding cannot load (a build fault).
pub fn encode(text: &str) -> Vec<u32> {
    match encoder() {
        Some(bpe) => bpe.encode_ordinary(text),
        None => text
            .as_bytes()
            .chunks(4)
            .map(|c| {
                c.iter()
                    .fold(0u32, |h, b| h.wrapping_mul(31) ^ u32::from(*b))
            })
            .collect(),
    }
}

/// [`count`] with a process-wide memo keyed by a hash of the text: scene code is counted once
/// per version, not on every request. A text not seen before is counted piece by piece (see
/// [`pieces`]) through the same memo, so a scene that changed in one line costs the count of
/// that line, not of the whole scene: counting dominated an incremental update.
pub fn count_cached(text: &str) -> usize {
    memoized(text, || {
        let mut pieces = pieces(text).peekable();
        match pieces.next() {
            // One piece is the text itself: count it once, under the text's own key.
            Some(first) if pieces.peek().is_some() => std::iter::once(first)
                .chain(pieces)
                .map(|piece| memoized(piece, || count(piece)))
                .sum(),
            _ => count(text),
        }
    })
}

/// `text`'s count from the memo, else from `compute`, then remembered.
fn memoized(text: &str, compute: impl FnOnce() -> usize) -> usize {
    memoized_under(memo_key(text), compute)
}

fn memoized_under(key: u64, compute: impl FnOnce() -> usize) -> usize {
    if let Some(n) = memo().get(key) {
        return n;
    }
    let n = compute();
    memo().insert(key, n);
    n
}

/// How many counts the memo keeps; past it, it starts over (a recount is the only cost).
pub const MEMO_CAPACITY: usize = 200_000;

/// The process-wide memo of counts. Its keys are already hashes, so the map hashes nothing
/// again, and a lookup is a read lock and a probe: a changed scene is counted line by line
/// through it, a few hundred lookups per request, where a concurrent cache with eviction
/// bookkeeping cost more than the counting it saved.
struct Memo {
    counts: std::sync::RwLock<HashMap<u64, usize, BuildHasherDefault<KeyHasher>>>,
}

impl Memo {
    fn get(&self, key: u64) -> Option<usize> {
        let counts = self.counts.read().unwrap_or_else(|e| e.into_inner());
        counts.get(&key).copied()
    }

    fn insert(&self, key: u64, n: usize) {
        let mut counts = self.counts.write().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= MEMO_CAPACITY && !counts.contains_key(&key) {
            counts.clear();
        }
        counts.insert(key, n);
    }
}

/// Uses a `u64` key (a hash already) as its own hash.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(|| Memo {
        counts: Default::default(),
    })
}

/// Counts the memo holds now (the soak reports it: it must stay bounded).
pub fn memo_entries() -> usize {
    memo()
        .counts
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .len()
}

/// What closes the code of a scene given in full (see `model::full_scene_text`).
pub const CODE_FENCE_END: &str = "\n```\n";

/// The key the count of `code` followed by [`CODE_FENCE_END`] is remembered under: derived
/// from the code's own key, so the code is hashed once and never copied to look it up.
pub fn fenced_code_key(code: &str) -> u64 {
    (memo_key(code) ^ 0x9e37_79b9_7f4a_7c15).rotate_left(17)
}

/// The count of `code` followed by [`CODE_FENCE_END`], remembered per version of the code.
pub fn count_fenced_code(code: &str) -> usize {
    memoized_under(fenced_code_key(code), || {
        count_cached(&format!("{code}{CODE_FENCE_END}"))
    })
}

/// [`count_fenced_code`] with the key it is remembered under (to carry it in a snapshot).
pub fn known_fenced_code_count(code: &str) -> (u64, usize) {
    (fenced_code_key(code), count_fenced_code(code))
}

/// Whether [`pieces`] may split a text between a line break and `next`, the text after it:
/// then the count of the whole is the count of what comes before plus the count of `next`.
pub fn splits_before(next: &str) -> bool {
    let indent_end = next
        .find(|c: char| !c.is_whitespace() || c == '\n' || c == '\r')
        .unwrap_or(next.len());
    next[indent_end..]
        .chars()
        .next()
        .is_some_and(|c| !c.is_whitespace())
}

/// The key [`count_cached`] remembers `text`'s count under: a hash of the text, the same in
/// every process of one build (`DefaultHasher::new` is not randomly keyed), so counts carry
/// from one process to the next.
pub fn memo_key(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// `text`'s count with the key it is remembered under, counted now if it is not yet (to carry
/// counts to another process, in a snapshot).
pub fn known_count(text: &str) -> (u64, usize) {
    (memo_key(text), count_cached(text))
}

/// Remembers counts carried from another process (keys of [`memo_key`]). Keys are hashes of
/// the texts, so a count is only ever found for the very text it was counted from.
pub fn remember(counts: &[(u64, usize)]) {
    let memo = memo();
    for &(key, n) in counts {
        memo.insert(key, n);
    }
}

/// Splits `text` into lines where cl100k's tokens cannot straddle them: after a line break
/// whose following whitespace (the next line's indentation) holds no other line break and
/// ends at a non-whitespace character. So `count(text)` is the sum of the pieces' counts.
///
/// Why that holds: cl100k (tiktoken-rs 0.12) first splits text with the pattern
/// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
/// and then encodes each match on its own. A match holds a line break only at the end of a
/// punctuation run or in a whitespace run, and a whitespace run that holds line breaks is
/// matched up to its last one, by `\s*[\r\n]` (or, at the end of a piece, by `\s++$`, which
/// ends at the same place). So a match ends at each split point, and as the pattern never
/// looks behind, the matches after it are those of the rest of the text alone. A property test
/// checks the sum against whole-text counts on random text and on the demo scenes.
pub fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = next_split(rest).unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// The first point in `text` (past its start) where [`pieces`] may split it.
fn next_split(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find('\n') {
        let after = from + i + 1;
        if splits_before(&text[after..]) {
            return Some(after);
        }
        from = after;
    }
    None
}
