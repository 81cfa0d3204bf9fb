//! Token counting with tiktoken's cl100k_base, embedded in the binary: works offline.

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
    let key = memo_key(text);
    if let Some(n) = memo().get(&key) {
        return n;
    }
    let n = compute();
    memo().insert(key, n);
    n
}

/// Counts remembered in the process-wide memo now (after pending evictions).
pub fn memo_entries() -> u64 {
    memo().run_pending_tasks();
    memo().entry_count()
}

fn memo() -> &'static moka::sync::Cache<u64, usize> {
    static MEMO: OnceLock<moka::sync::Cache<u64, usize>> = OnceLock::new();
    MEMO.get_or_init(|| moka::sync::Cache::new(200_000))
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
    for &(key, n) in counts {
        memo().insert(key, n);
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
        let next_line = &text[after..];
        let indent_end = next_line
            .find(|c: char| !c.is_whitespace() || c == '\n' || c == '\r')
            .unwrap_or(next_line.len());
        let ends_in_text = next_line[indent_end..]
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace());
        if ends_in_text {
            return Some(after);
        }
        from = after;
    }
    None
}
