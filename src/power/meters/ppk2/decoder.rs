//! The PPK2 sample stream: 4-byte little-endian words at 100 kS/s with no framing
//! (protocols.md §3.4), decoded without allocating.
//!
//! | bits  | meaning                                  |
//! |-------|------------------------------------------|
//! | 0–13  | ADC value                                |
//! | 14–16 | current range 0–4 (values 5–7 clamp to 4)|
//! | 17    | unused                                   |
//! | 18–23 | rolling sample counter, mod 64           |
//! | 24–31 | logic inputs D0–D7                       |
//!
//! # Counter tracking
//!
//! Every word should carry the counter of the one before plus one (mod 64). A word that
//! does not is a *suspect*: the device lost samples, a byte was corrupted, or a stray byte
//! shifted the alignment. Suspects are held back (at most [`MAX_SUSPECT_WORDS`]) until a
//! run of [`CONFIRM_RUN`] words with consecutive counters appears at one of the four byte
//! offsets. Then:
//!
//! - the words before the run are discarded (their bytes are counted, they never become
//!   samples: a word whose counter is wrong cannot be trusted for the rest either);
//! - `missing = (first counter of the run − expected counter) mod 64` sample slots are
//!   reported as lost ([`Sink::lost`]), which keeps them as a gap on the time axis. This
//!   is Nordic's rule (`(counter − expected + 63) & 63` plus one), so a loss of a whole
//!   multiple of 64 samples cannot be seen;
//! - the run is accepted, and decoding goes on at its byte offset (a stray byte costs the
//!   word it landed in, counted as lost).
//!
//! Nordic's app accepts the held-back words when the expected counter reappears; this
//! decoder drops them instead (and counts their slots as lost), so a corrupted word never
//! becomes a sample. Decoding starts the same way: the first [`CONFIRM_RUN`] words must
//! run consecutively before any sample is given.
//!
//! A short read never produces a sample: up to 3 bytes of an incomplete word are carried
//! over to the next [`Decoder::feed`].

/// Bytes per sample word.
pub const SAMPLE_LEN: usize = 4;

/// Samples per second while streaming (Nordic's `adcSamplingTimeUs = 10`).
pub const SAMPLE_RATE_HZ: u32 = 100_000;

/// The sample counter counts modulo this.
pub const COUNTER_MODULUS: u8 = 64;

/// Consecutive counters needed to accept words again after a break (and at the start).
pub const CONFIRM_RUN: usize = 3;

/// Suspect words held back at most; older ones are discarded as garbage.
pub const MAX_SUSPECT_WORDS: usize = 16;

/// Highest valid current range index.
pub const MAX_RANGE: u8 = 4;

const SUSPECT_BYTES: usize = MAX_SUSPECT_WORDS * SAMPLE_LEN;

/// One decoded word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word {
    /// ADC value, 14 bits.
    pub adc: u16,
    /// Current range 0–4.
    pub range: u8,
    /// Rolling counter 0–63.
    pub counter: u8,
    /// Logic inputs, D0 in bit 0.
    pub logic: u8,
}

impl Word {
    /// Splits a little-endian word into its fields, clamping the range to 0–4.
    #[inline]
    pub fn from_u32(word: u32) -> Word {
        Word {
            adc: (word & 0x3FFF) as u16,
            range: (((word >> 14) & 0x7) as u8).min(MAX_RANGE),
            counter: counter_of(word),
            logic: (word >> 24) as u8,
        }
    }

    /// The word from its four bytes as they arrive.
    #[inline]
    pub fn from_bytes(bytes: [u8; SAMPLE_LEN]) -> Word {
        Word::from_u32(u32::from_le_bytes(bytes))
    }

    /// The word on the wire (fields masked to their widths; bit 17 is 0).
    pub fn to_u32(self) -> u32 {
        u32::from(self.adc & 0x3FFF)
            | (u32::from(self.range & 0x7) << 14)
            | (u32::from(self.counter & 0x3F) << 18)
            | (u32::from(self.logic) << 24)
    }

    /// The four bytes on the wire.
    pub fn to_bytes(self) -> [u8; SAMPLE_LEN] {
        self.to_u32().to_le_bytes()
    }
}

#[inline]
fn counter_of(word: u32) -> u8 {
    ((word >> 18) & 0x3F) as u8
}

#[inline]
fn next_counter(counter: u8) -> u8 {
    (counter + 1) % COUNTER_MODULUS
}

/// Where decoded samples go.
pub trait Sink {
    /// The next sample, one slot (10 µs) after the previous one.
    fn sample(&mut self, word: Word);

    /// `count` sample slots were lost before the next sample.
    fn lost(&mut self, count: u32);
}

/// What a decoder has seen. Invariant: `bytes = 4 · samples + discarded_bytes +
/// pending bytes` ([`Decoder::pending_bytes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Bytes fed.
    pub bytes: u64,
    /// Samples given to the sink.
    pub samples: u64,
    /// Sample slots reported lost.
    pub lost: u64,
    /// Bytes that did not become samples.
    pub discarded_bytes: u64,
    /// Breaks of the counter sequence after the first sample.
    pub breaks: u64,
    /// Times decoding moved to another byte offset.
    pub realignments: u64,
    /// Stream byte offset of the word that began the last break (0 before any).
    pub last_break_offset: u64,
}

/// The stream decoder: keeps the 0–3 bytes of an incomplete word and the counter state
/// between reads.
#[derive(Clone, Debug)]
pub struct Decoder {
    carry: [u8; SAMPLE_LEN],
    carry_len: usize,
    /// The counter the next word should carry; `None` before the first run.
    expected: Option<u8>,
    suspects: [u8; SUSPECT_BYTES],
    suspect_len: usize,
    /// Stream byte offset just past the word being decoded.
    word_end: u64,
    stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder waiting for its first run of words.
    pub fn new() -> Decoder {
        Decoder {
            carry: [0; SAMPLE_LEN],
            carry_len: 0,
            expected: None,
            suspects: [0; SUSPECT_BYTES],
            suspect_len: 0,
            word_end: 0,
            stats: DecodeStats::default(),
        }
    }

    /// What has been decoded so far.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Bytes held for later: an incomplete word and suspect words.
    pub fn pending_bytes(&self) -> usize {
        self.carry_len + self.suspect_len
    }

    /// Decodes `input`, giving every accepted sample and every loss to `sink` in order.
    pub fn feed(&mut self, mut input: &[u8], sink: &mut impl Sink) {
        let base = self.stats.bytes;
        let total = input.len();
        self.stats.bytes += total as u64;
        loop {
            if self.carry_len > 0 {
                let take = (SAMPLE_LEN - self.carry_len).min(input.len());
                self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&input[..take]);
                self.carry_len += take;
                input = &input[take..];
                if self.carry_len < SAMPLE_LEN {
                    return;
                }
                self.carry_len = 0;
                let bytes = self.carry;
                self.word_end = base + (total - input.len()) as u64;
                self.word(bytes, sink);
                continue;
            }
            let mut consumed = 0;
            let at = base + (total - input.len()) as u64;
            for chunk in input.chunks_exact(SAMPLE_LEN) {
                consumed += SAMPLE_LEN;
                let bytes = [chunk[0], chunk[1], chunk[2], chunk[3]];
                self.word_end = at + consumed as u64;
                self.word(bytes, sink);
                if self.carry_len > 0 {
                    // Realigned: the leftover bytes come before the rest of `input`.
                    break;
                }
            }
            input = &input[consumed..];
            if self.carry_len > 0 {
                continue;
            }
            if input.len() >= SAMPLE_LEN {
                continue;
            }
            self.carry[..input.len()].copy_from_slice(input);
            self.carry_len = input.len();
            return;
        }
    }

    #[inline]
    fn word(&mut self, bytes: [u8; SAMPLE_LEN], sink: &mut impl Sink) {
        let word = u32::from_le_bytes(bytes);
        if self.suspect_len == 0 && self.expected == Some(counter_of(word)) {
            self.accept(Word::from_u32(word), sink);
            return;
        }
        self.suspect(bytes, sink);
    }

    #[inline]
    fn accept(&mut self, word: Word, sink: &mut impl Sink) {
        self.expected = Some(next_counter(word.counter));
        self.stats.samples += 1;
        sink.sample(word);
    }

    #[cold]
    fn suspect(&mut self, bytes: [u8; SAMPLE_LEN], sink: &mut impl Sink) {
        if self.suspect_len == 0 && self.expected.is_some() {
            self.stats.breaks += 1;
            self.stats.last_break_offset = self.word_end.saturating_sub(SAMPLE_LEN as u64);
            tracing::trace!(
                "PPK2 counter sequence broken at byte {}",
                self.stats.last_break_offset
            );
        }
        if self.suspect_len == SUSPECT_BYTES {
            // Nothing ran consecutively in the oldest word at any offset: garbage.
            self.suspects.copy_within(SAMPLE_LEN.., 0);
            self.suspect_len -= SAMPLE_LEN;
            self.stats.discarded_bytes += SAMPLE_LEN as u64;
        }
        self.suspects[self.suspect_len..self.suspect_len + SAMPLE_LEN].copy_from_slice(&bytes);
        self.suspect_len += SAMPLE_LEN;
        self.resolve(sink);
    }

    /// Looks for [`CONFIRM_RUN`] consecutive words ending at the newest suspect, at byte
    /// offsets 0, 1, 2, 3; accepts them when found.
    fn resolve(&mut self, sink: &mut impl Sink) {
        for offset in 0..SAMPLE_LEN {
            let words = (self.suspect_len - offset) / SAMPLE_LEN;
            if words < CONFIRM_RUN {
                continue;
            }
            let run_start = offset + (words - CONFIRM_RUN) * SAMPLE_LEN;
            let run = self.run_at(run_start);
            let consecutive = run
                .windows(2)
                .all(|pair| counter_of(pair[1]) == next_counter(counter_of(pair[0])));
            if !consecutive {
                continue;
            }
            let first = Word::from_u32(run[0]);
            if let Some(expected) = self.expected {
                let missing = (first.counter + COUNTER_MODULUS - expected) % COUNTER_MODULUS;
                if missing > 0 {
                    self.stats.lost += u64::from(missing);
                    sink.lost(u32::from(missing));
                }
            }
            if offset > 0 {
                self.stats.realignments += 1;
            }
            self.stats.discarded_bytes += run_start as u64;
            let run_end = run_start + CONFIRM_RUN * SAMPLE_LEN;
            let leftover = self.suspect_len - run_end;
            self.carry[..leftover].copy_from_slice(&self.suspects[run_end..self.suspect_len]);
            self.carry_len = leftover;
            self.suspect_len = 0;
            for word in run {
                self.accept(Word::from_u32(word), sink);
            }
            return;
        }
    }

    fn run_at(&self, start: usize) -> [u32; CONFIRM_RUN] {
        std::array::from_fn(|k| {
            let at = start + k * SAMPLE_LEN;
            let b = &self.suspects[at..at + SAMPLE_LEN];
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what a decoder gives, losses as `None`s.
    #[derive(Default)]
    pub(super) struct Collect {
        pub(super) slots: Vec<Option<Word>>,
    }

    impl Sink for Collect {
        fn sample(&mut self, word: Word) {
            self.slots.push(Some(word));
        }

        fn lost(&mut self, count: u32) {
            self.slots.extend((0..count).map(|_| None));
        }
    }

    impl Collect {
        fn words(&self) -> Vec<Word> {
            self.slots.iter().flatten().copied().collect()
        }
    }

    fn word(adc: u16, range: u8, counter: u8, logic: u8) -> Word {
        Word {
            adc,
            range,
            counter,
            logic,
        }
    }

    /// `n` words with counters from `first`, ADC = index.
    fn stream(first: u8, n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|k| word(k as u16, 1, (first as usize + k) as u8 % 64, k as u8).to_bytes())
            .collect()
    }

    #[test]
    fn the_example_words_of_the_protocol_notes_decode() {
        // protocols.md §3.5, item 4.
        assert_eq!(
            Word::from_bytes([0xe8, 0x83, 0x14, 0x01]),
            word(1000, 2, 5, 0x01)
        );
        assert_eq!(
            Word::from_bytes([0xe8, 0x83, 0x18, 0x01]),
            word(1000, 2, 6, 0x01)
        );
        assert_eq!(
            Word::from_bytes([0xff, 0x1f, 0x1c, 0x00]),
            word(8191, 0, 7, 0x00)
        );
        assert_eq!(
            Word::from_bytes([0xc8, 0x00, 0x21, 0x80]),
            word(200, 4, 8, 0x80)
        );
        assert_eq!(word(1000, 2, 5, 1).to_u32(), 0x0114_83E8);
    }

    #[test]
    fn ranges_five_to_seven_clamp_to_four() {
        for raw in 5..8u32 {
            assert_eq!(Word::from_u32(raw << 14).range, 4);
        }
    }

    #[test]
    fn a_clean_stream_decodes_whole_in_any_split() {
        let bytes = stream(60, 100);
        for split in [1, 2, 3, 4, 5, 7, 13, 4093] {
            let mut decoder = Decoder::new();
            let mut sink = Collect::default();
            for piece in bytes.chunks(split) {
                decoder.feed(piece, &mut sink);
            }
            let words = sink.words();
            assert_eq!(words.len(), 100, "split {split}");
            assert!(sink.slots.iter().all(Option::is_some));
            assert_eq!(words[0], word(0, 1, 60, 0));
            assert_eq!(words[99], word(99, 1, (60 + 99) % 64, 99));
            assert_eq!(decoder.stats().discarded_bytes, 0);
        }
    }

    #[test]
    fn a_short_read_gives_no_sample() {
        let bytes = stream(0, 4);
        let mut decoder = Decoder::new();
        let mut sink = Collect::default();
        decoder.feed(&bytes[..11], &mut sink);
        // Two whole words and three bytes: nothing until a run of three is complete.
        assert!(sink.slots.is_empty());
        assert_eq!(decoder.pending_bytes(), 11);
        decoder.feed(&bytes[11..12], &mut sink);
        assert_eq!(sink.words().len(), 3);
        decoder.feed(&bytes[12..15], &mut sink);
        assert_eq!(sink.words().len(), 3);
        decoder.feed(&bytes[15..], &mut sink);
        assert_eq!(sink.words().len(), 4);
    }

    #[test]
    fn dropped_samples_become_a_gap_of_their_number() {
        let mut bytes = stream(0, 20);
        let after: Vec<u8> = (30..50u8)
            .flat_map(|k| word(u16::from(k), 1, k % 64, 0).to_bytes())
            .collect();
        bytes.extend(after);
        let mut decoder = Decoder::new();
        let mut sink = Collect::default();
        decoder.feed(&bytes, &mut sink);
        assert_eq!(sink.slots.len(), 50);
        assert!(sink.slots[20..30].iter().all(Option::is_none));
        assert_eq!(sink.slots[30], Some(word(30, 1, 30, 0)));
        assert_eq!(decoder.stats().lost, 10);
        assert_eq!(decoder.stats().breaks, 1);
        assert_eq!(decoder.stats().last_break_offset, 80);
    }

    #[test]
    fn a_stray_byte_before_a_word_is_skipped_by_realigning() {
        let clean = stream(10, 40);
        let mut bytes = clean.clone();
        bytes.insert(4 * 20, 0xA5);
        let mut decoder = Decoder::new();
        let mut sink = Collect::default();
        for piece in bytes.chunks(3) {
            decoder.feed(piece, &mut sink);
        }
        let stats = decoder.stats();
        let expected: Vec<Word> = clean
            .chunks(4)
            .map(|b| Word::from_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(sink.words(), expected, "{stats:?}");
        assert!(sink.slots.iter().all(Option::is_some));
        assert_eq!((stats.lost, stats.discarded_bytes), (0, 1));
        assert_eq!((stats.breaks, stats.realignments), (1, 1));
    }

    #[test]
    fn a_stray_byte_inside_a_word_costs_at_most_that_word() {
        // No checksum: a word whose counter byte survives the shift cannot be told from a
        // good one, so word 20 may come out changed or lost; all others must be exact.
        let clean = stream(10, 40);
        for within in 1..4 {
            let mut bytes = clean.clone();
            bytes.insert(4 * 20 + within, 0xA5);
            let mut decoder = Decoder::new();
            let mut sink = Collect::default();
            decoder.feed(&bytes, &mut sink);
            let stats = decoder.stats();
            assert_eq!(sink.slots.len(), 40, "byte {within}: {stats:?}");
            assert!(stats.lost <= 1 && stats.realignments == 1, "{stats:?}");
            for (k, slot) in sink.slots.iter().enumerate().filter(|(k, _)| *k != 20) {
                let b = &clean[4 * k..4 * k + 4];
                assert_eq!(*slot, Some(Word::from_bytes([b[0], b[1], b[2], b[3]])));
            }
        }
    }

    #[test]
    fn a_corrupted_counter_drops_its_word_only() {
        let mut bytes = stream(0, 30);
        bytes[4 * 12 + 2] ^= 0x40; // counter bit 4 of word 12
        let mut decoder = Decoder::new();
        let mut sink = Collect::default();
        decoder.feed(&bytes, &mut sink);
        assert_eq!(sink.slots.len(), 30);
        assert!(sink.slots[12].is_none());
        assert_eq!(decoder.stats().lost, 1);
    }

    #[test]
    fn garbage_never_resolves_into_samples() {
        // All words carry counter 0: never consecutive.
        let garbage = [0x12, 0x34, 0x00, 0x56].repeat(100);
        let mut decoder = Decoder::new();
        let mut sink = Collect::default();
        decoder.feed(&garbage, &mut sink);
        assert!(sink.slots.is_empty());
        let stats = decoder.stats();
        assert_eq!(
            stats.bytes,
            stats.discarded_bytes + decoder.pending_bytes() as u64
        );
    }
}
