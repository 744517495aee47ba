//! Finding fixed-length frames in a byte stream that may hold garbage, cut or shifted frames.
//!
//! The rule is libsigrok's for the RDTech meters (protocols.md §2.4): look for a frame
//! start at the first buffered byte; where there is none, or the frame there fails its
//! checks, drop that one byte and look again. Nothing but a frame that passed its checks is
//! ever consumed whole, so a valid frame behind garbage or behind a corrupt frame is found.

use super::polled::Rejected;

/// What a meter's decoder says of the bytes at a candidate frame start.
pub enum Probe {
    /// A frame may start here: decode it once `frame_len` bytes are buffered.
    Start,
    /// No frame starts here: slide one byte.
    Skip,
    /// Too few bytes to tell yet: wait for more.
    Wait,
}

/// The buffer of a stream decoder with the stream offsets its messages name.
#[derive(Clone, Debug, Default)]
pub struct FrameScanner {
    buffer: Vec<u8>,
    /// Stream offset of `buffer[0]`.
    offset: u64,
    skipped: u64,
}

impl FrameScanner {
    /// An empty scanner with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> FrameScanner {
        FrameScanner {
            buffer: Vec::with_capacity(capacity),
            ..FrameScanner::default()
        }
    }

    /// Appends `bytes` and takes out every frame of `frame_len` bytes that `probe` says
    /// starts and `decode` accepts, in stream order. A frame `decode` refuses goes to
    /// `rejected` with its stream offset, and the scan slides one byte past its start.
    pub fn push<F, E: ToString>(
        &mut self,
        bytes: &[u8],
        frame_len: usize,
        mut probe: impl FnMut(&[u8]) -> Probe,
        mut decode: impl FnMut(&[u8]) -> Result<F, E>,
        frames: &mut Vec<F>,
        rejected: &mut Vec<Rejected>,
    ) {
        self.buffer.extend_from_slice(bytes);
        let mut start = 0;
        while start < self.buffer.len() {
            let window = &self.buffer[start..];
            match probe(window) {
                Probe::Wait => break,
                Probe::Skip => {
                    start += 1;
                    self.skipped += 1;
                    continue;
                }
                Probe::Start if window.len() < frame_len => break,
                Probe::Start => {}
            }
            match decode(&window[..frame_len]) {
                Ok(frame) => {
                    frames.push(frame);
                    start += frame_len;
                }
                Err(reason) => {
                    rejected.push(Rejected {
                        offset: self.offset + start as u64,
                        reason: reason.to_string(),
                    });
                    start += 1;
                    self.skipped += 1;
                }
            }
        }
        self.buffer.drain(..start);
        self.offset += start as u64;
    }

    /// Bytes skipped while looking for frames.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Drops a partial frame (the stream offsets go on counting).
    pub fn reset(&mut self) {
        self.offset += self.buffer.len() as u64;
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of 4 bytes: `0xAA`, two payload bytes, and their sum as a check byte.
    fn probe(window: &[u8]) -> Probe {
        if window[0] == 0xAA {
            Probe::Start
        } else {
            Probe::Skip
        }
    }

    fn decode(frame: &[u8]) -> Result<(u8, u8), &'static str> {
        if frame[1].wrapping_add(frame[2]) == frame[3] {
            Ok((frame[1], frame[2]))
        } else {
            Err("bad check byte")
        }
    }

    fn scan(chunks: &[&[u8]]) -> (Vec<(u8, u8)>, Vec<Rejected>, u64) {
        let mut scanner = FrameScanner::default();
        let (mut frames, mut rejected) = (Vec::new(), Vec::new());
        for chunk in chunks {
            scanner.push(chunk, 4, probe, decode, &mut frames, &mut rejected);
        }
        (frames, rejected, scanner.skipped())
    }

    #[test]
    fn frames_are_found_behind_garbage_and_across_chunks() {
        let (frames, rejected, skipped) =
            scan(&[&[0x01, 0x02, 0xAA, 1], &[2, 3, 0xAA], &[5, 6, 11]]);
        assert_eq!(frames, [(1, 2), (5, 6)]);
        assert!(rejected.is_empty());
        assert_eq!(skipped, 2);
    }

    #[test]
    fn a_corrupt_frame_is_rejected_at_its_offset_and_the_next_one_kept() {
        // The corrupt frame at offset 0 hides a valid one starting at its third byte.
        let (frames, rejected, _) = scan(&[&[0xAA, 9, 0xAA, 1, 2, 3]]);
        assert_eq!(frames, [(1, 2)]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].offset, 0);
        assert_eq!(rejected[0].reason, "bad check byte");
    }

    #[test]
    fn a_reset_keeps_counting_stream_offsets() {
        let mut scanner = FrameScanner::default();
        let (mut frames, mut rejected) = (Vec::new(), Vec::new());
        scanner.push(&[0xAA, 1], 4, probe, decode, &mut frames, &mut rejected);
        scanner.reset();
        scanner.push(
            &[0xAA, 1, 1, 3],
            4,
            probe,
            decode,
            &mut frames,
            &mut rejected,
        );
        assert!(frames.is_empty());
        assert_eq!(rejected[0].offset, 2);
    }
}
