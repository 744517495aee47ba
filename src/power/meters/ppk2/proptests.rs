//! Property tests of the sample decoder: over 100 000 random and mutated byte streams
//! split at random points, no panic, no sample that is not four consecutive input bytes,
//! counters continuous across every reported loss, and the byte and sample counts
//! consistent.

use proptest::prelude::*;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

use super::decoder::{CONFIRM_RUN, Decoder, Sink, Word};

/// Slots as the sink saw them: a sample, or a lost slot.
#[derive(Default)]
struct Slots {
    slots: Vec<Option<Word>>,
    lost_calls: u64,
}

impl Sink for Slots {
    fn sample(&mut self, word: Word) {
        self.slots.push(Some(word));
    }

    fn lost(&mut self, count: u32) {
        assert!(count > 0, "a loss of zero slots");
        self.lost_calls += u64::from(count);
        self.slots.extend((0..count).map(|_| None));
    }
}

/// Feeds `bytes` in pieces of 0 to `max_piece` bytes.
fn decode(bytes: &[u8], rng: &mut ChaCha8Rng, max_piece: usize) -> (Decoder, Slots) {
    let mut decoder = Decoder::new();
    let mut sink = Slots::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = rng.random_range(0..=max_piece).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        decoder.feed(piece, &mut sink);
        rest = tail;
    }
    (decoder, sink)
}

/// The properties every decoding must have, whatever the input.
fn check_invariants(bytes: &[u8], decoder: &Decoder, sink: &Slots) {
    let stats = decoder.stats();
    let samples = sink.slots.iter().flatten().count() as u64;
    assert_eq!(stats.samples, samples);
    assert_eq!(stats.lost, sink.lost_calls);
    assert_eq!(stats.bytes, bytes.len() as u64);
    assert_eq!(
        stats.bytes,
        4 * stats.samples + stats.discarded_bytes + decoder.pending_bytes() as u64,
        "{stats:?}"
    );
    assert!(decoder.pending_bytes() < 4 + 16 * 4);

    // Every sample is four consecutive input bytes (compared after decoding, which drops
    // bit 17 and clamps the range).
    let mut windows: Vec<u32> = bytes
        .windows(4)
        .map(|w| Word::from_bytes([w[0], w[1], w[2], w[3]]).to_u32())
        .collect();
    windows.sort_unstable();
    for word in sink.slots.iter().flatten() {
        assert!(
            windows.binary_search(&word.to_u32()).is_ok(),
            "{word:?} is not in the input"
        );
    }

    // Counters run on across losses: counter = previous + 1 + lost slots, mod 64.
    let mut previous: Option<(usize, u8)> = None;
    for (slot, word) in sink.slots.iter().enumerate() {
        if let Some(word) = word {
            if let Some((at, counter)) = previous {
                let step = (slot - at) as u64;
                assert_eq!(
                    u64::from(word.counter),
                    (u64::from(counter) + step) % 64,
                    "slot {slot}"
                );
            }
            previous = Some((slot, word.counter));
        }
    }
    assert!(
        sink.slots.first().is_none_or(Option::is_some),
        "a loss before the first sample"
    );
}

/// `n` words with consecutive counters from a random start and random fields.
fn clean_stream(rng: &mut ChaCha8Rng, n: usize) -> Vec<Word> {
    let start: u8 = rng.random_range(0..64);
    (0..n)
        .map(|k| Word {
            adc: rng.random_range(0..0x4000),
            range: rng.random_range(0..5),
            counter: ((usize::from(start) + k) % 64) as u8,
            logic: rng.random(),
        })
        .collect()
}

fn bytes_of(words: &[Word]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_bytes()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60_000, ..ProptestConfig::default() })]

    #[test]
    fn random_streams_keep_the_invariants(seed in any::<u64>(), len in 0usize..320) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        // A third of the cases: bytes from a small alphabet, so counters repeat.
        if seed % 3 == 0 {
            for b in &mut bytes {
                *b &= 0x0C;
            }
        }
        let (decoder, sink) = decode(&bytes, &mut rng, 9);
        check_invariants(&bytes, &decoder, &sink);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn dropped_words_are_exact_gaps(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let words = clean_stream(&mut rng, 250);
        // Drop runs of 1–63 words, each followed by at least CONFIRM_RUN kept words.
        let mut kept = Vec::new();
        let mut expected: Vec<Option<Word>> = Vec::new();
        let mut k = 0;
        while k < words.len() {
            let remaining = words.len() - k;
            if k >= CONFIRM_RUN && remaining > 70 && rng.random_bool(0.05) {
                let drop = rng.random_range(1..64);
                expected.extend((0..drop).map(|_| None));
                k += drop;
                for word in &words[k..k + CONFIRM_RUN] {
                    kept.push(*word);
                    expected.push(Some(*word));
                }
                k += CONFIRM_RUN;
            } else {
                kept.push(words[k]);
                expected.push(Some(words[k]));
                k += 1;
            }
        }
        let bytes = bytes_of(&kept);
        let (decoder, sink) = decode(&bytes, &mut rng, 4100);
        check_invariants(&bytes, &decoder, &sink);
        prop_assert_eq!(sink.slots, expected);
        prop_assert_eq!(decoder.stats().discarded_bytes, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_streams_recover(seed in any::<u64>(), mutations in 1usize..4) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let words = clean_stream(&mut rng, 160);
        let mut bytes = bytes_of(&words);
        // One mutation in each of `mutations` regions of 30 words, 20 words apart; applied
        // from the last region back, so the earlier positions stay valid.
        for region in (0..mutations).rev() {
            let first_word = 15 + 50 * region;
            let position = rng.random_range(first_word * 4..(first_word + 30) * 4);
            match rng.random_range(0..4) {
                0 => bytes.insert(position, rng.random()),
                1 => {
                    bytes.remove(position);
                }
                2 => bytes[position] ^= 1 << rng.random_range(0..8),
                _ => {
                    let garbage: Vec<u8> =
                        (0..rng.random_range(1..33)).map(|_| rng.random()).collect();
                    bytes.splice(position..position, garbage);
                }
            }
        }
        let (decoder, sink) = decode(&bytes, &mut rng, 4100);
        check_invariants(&bytes, &decoder, &sink);
        let originals: std::collections::HashSet<u32> = words.iter().map(|w| w.to_u32()).collect();
        let originals = sink
            .slots
            .iter()
            .flatten()
            .filter(|w| originals.contains(&w.to_u32()))
            .count();
        prop_assert!(
            originals + 24 * mutations >= words.len(),
            "{} of {} words recovered after {} mutations: {:?}",
            originals, words.len(), mutations, decoder.stats()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, ..ProptestConfig::default() })]

    #[test]
    fn metadata_in_any_pieces_or_after_noise_parses_the_same(seed in any::<u64>()) {
        use super::device::Device;
        use super::metadata::{MAX_METADATA_LEN, MetadataReader};

        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let text = Device::new().metadata_text();
        let expected = MetadataReader::new().push(text.as_bytes()).expect("fits").expect("whole");
        // Noise without newlines before the text only lengthens its first line's key.
        let noise: Vec<u8> = (0..rng.random_range(0..40))
            .map(|_| rng.random_range(0x20..0x7f_u8))
            .collect();
        let mut bytes = noise;
        bytes.push(b'\n');
        bytes.extend_from_slice(text.as_bytes());
        let mut reader = MetadataReader::new();
        let mut parsed = None;
        let mut rest = bytes.as_slice();
        while !rest.is_empty() && parsed.is_none() {
            let n = rng.random_range(0..=64).min(rest.len());
            parsed = reader.push(&rest[..n]).expect("fits");
            rest = &rest[n..];
        }
        prop_assert!(rest.is_empty(), "parsed before the end");
        prop_assert_eq!(parsed, Some(expected));

        // Random bytes: never a panic, never more than the limit kept.
        let mut reader = MetadataReader::new();
        for _ in 0..rng.random_range(0..100) {
            let piece: Vec<u8> = (0..rng.random_range(0..200)).map(|_| rng.random()).collect();
            if reader.push(&piece).is_err() {
                break;
            }
        }
        prop_assert!(reader.received() <= MAX_METADATA_LEN);
    }
}
