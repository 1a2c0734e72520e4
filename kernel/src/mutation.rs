//! Inputs derived from a valid document by the damage real files suffer: flipped bits, a cut-off
//! end, a byte-order mark, CRLF line ends, stray or repeated bytes, very long fields, deep nesting
//! and bytes that are not UTF-8. Every input stays within [`MAX_INPUT`].

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;

/// The largest input a case builds (1 MiB): the readers must answer it, not only small ones.
pub const MAX_INPUT: usize = 1 << 20;

/// How long one input may take to be answered; generous because the machine running the tests
/// may be busy, yet far below what a quadratic blow-up or a loop would take.
pub const PER_INPUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub enum Mutation {
    FlipBit(Index, u8),
    Truncate(Index),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    /// Repeats the bytes from the index on to make one field very long.
    Repeat(Index, usize, usize),
    /// Opens `depth` arrays or objects at the index.
    Nest(Index, usize, bool),
    Bom,
    Crlf,
}

/// Bytes that mean something to one of the formats read here.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"|".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\xe4\xb8".to_vec()),
        Just("\u{feff}".as_bytes().to_vec()),
        Just(b"-".to_vec()),
        Just(b"1e400".to_vec()),
        Just(b"99999999999999999999999999999999".to_vec()),
        Just(b"-0.005".to_vec()),
        Just(b"null".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 1usize..16).prop_map(|(at, len)| Mutation::Delete(at, len)),
        4 => (any::<Index>(), token()).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        // Repeat counts spread evenly over the powers of two, so that megabyte inputs are
        // generated without making every case slow.
        1 => (any::<Index>(), 1usize..16, 0u32..21)
            .prop_map(|(at, len, power)| Mutation::Repeat(at, len, 1 << power)),
        1 => (any::<Index>(), 1usize..5_000, any::<bool>())
            .prop_map(|(at, depth, array)| Mutation::Nest(at, depth, array)),
        1 => Just(Mutation::Bom),
        1 => Just(Mutation::Crlf),
    ]
}

/// One to six mutations, applied in order.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..6)
}

fn position(at: &Index, bytes: &[u8]) -> usize {
    at.index(bytes.len() + 1)
}

/// `seed` with every mutation applied, cut to [`MAX_INPUT`].
pub fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        match mutation {
            Mutation::FlipBit(at, bit) => {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] ^= 1 << bit;
                }
            }
            Mutation::Truncate(at) => bytes.truncate(position(at, &bytes)),
            Mutation::Delete(at, len) => {
                let start = position(at, &bytes);
                let end = (start + len).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Insert(at, inserted) => {
                let i = position(at, &bytes);
                bytes.splice(i..i, inserted.iter().copied());
            }
            Mutation::Repeat(at, len, times) => {
                let start = position(at, &bytes);
                let end = (start + len).min(bytes.len());
                let piece = bytes[start..end].to_vec();
                if !piece.is_empty() {
                    let room = MAX_INPUT.saturating_sub(bytes.len()) / piece.len();
                    let repeated = piece.repeat((*times).min(room));
                    bytes.splice(end..end, repeated);
                }
            }
            Mutation::Nest(at, depth, array) => {
                let i = position(at, &bytes);
                let opening: &[u8] = if *array { b"[" } else { b"{\"a\":" };
                bytes.splice(i..i, opening.repeat(*depth));
            }
            Mutation::Bom => {
                bytes.splice(0..0, "\u{feff}".bytes());
            }
            Mutation::Crlf => {
                let mut crlf = Vec::with_capacity(bytes.len() + bytes.len() / 8);
                for &b in &bytes {
                    if b == b'\n' {
                        crlf.push(b'\r');
                    }
                    crlf.push(b);
                }
                bytes = crlf;
            }
        }
    }
    bytes.truncate(MAX_INPUT);
    bytes
}

/// Runs `read` on one input and checks it answered within [`PER_INPUT`].
pub fn answered_in_time<T>(what: &str, read: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let answer = read();
    let took = started.elapsed();
    assert!(took < PER_INPUT, "{what} took {took:?} for one input");
    answer
}
