//! Min/max decimation of a long trace for drawing: per pixel column, the lowest and the
//! highest sample in it, so that no spike disappears however far the view is zoomed out.
//!
//! # Method
//!
//! [`Envelope`] keeps the samples `(tᵢ, vᵢ)` (times non-decreasing) and a min/max
//! pyramid over the sample index: level `k` holds the minimum and maximum of every
//! aligned block of `2ᵏ` samples, and is extended as samples are appended. To decimate
//! `[x_min, x_max]` into `n` columns of equal width, the index range of each column is
//! found by binary search on the times, and its minimum and maximum are assembled from at
//! most `2 log₂(len)` aligned blocks. A view therefore costs `O(n log len)` whatever the
//! length of the trace; building the pyramid costs `O(len)` once, spread over the appends.
//!
//! A column with samples yields two points at its middle time, minimum and maximum,
//! ordered so that the line continues from the previous column's nearer extreme. When the
//! visible range holds no more than two samples per column, the samples themselves are
//! returned. One sample beyond each edge of the range is included, so the line reaches
//! the edges of the view.

/// A trace with a min/max pyramid for fast decimation.
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    times: Vec<f64>,
    values: Vec<f64>,
    /// `levels[k - 1]` holds `[min, max]` of the aligned blocks of `2ᵏ` samples.
    levels: Vec<Vec<[f64; 2]>>,
}

impl Envelope {
    /// An empty trace.
    pub fn new() -> Envelope {
        Envelope::default()
    }

    /// A trace of the points `(times[i], values[i])` (pairs beyond the shorter slice are
    /// ignored); the first point going back in time or not finite is the error.
    pub fn from_points(times: &[f64], values: &[f64]) -> Result<Envelope, (f64, f64)> {
        let mut envelope = Envelope {
            times: Vec::with_capacity(times.len()),
            values: Vec::with_capacity(values.len()),
            levels: Vec::new(),
        };
        for (&t, &v) in times.iter().zip(values) {
            envelope.push(t, v)?;
        }
        Ok(envelope)
    }

    /// Appends a sample. A time earlier than the last one, or a non-finite value, is
    /// refused and returned as the error.
    pub fn push(&mut self, t: f64, value: f64) -> Result<(), (f64, f64)> {
        if !t.is_finite() || !value.is_finite() || self.times.last().is_some_and(|&l| t < l) {
            return Err((t, value));
        }
        self.times.push(t);
        self.values.push(value);
        self.extend_levels();
        Ok(())
    }

    /// Completes every pyramid block the last sample closed.
    fn extend_levels(&mut self) {
        let len = self.values.len();
        let mut k = 1;
        while len.is_multiple_of(1 << k) {
            let pair = if k == 1 {
                let (a, b) = (self.values[len - 2], self.values[len - 1]);
                [a.min(b), a.max(b)]
            } else {
                let below = &self.levels[k - 2];
                let (a, b) = (below[below.len() - 2], below[below.len() - 1]);
                [a[0].min(b[0]), a[1].max(b[1])]
            };
            if self.levels.len() < k {
                self.levels.push(Vec::new());
            }
            self.levels[k - 1].push(pair);
            k += 1;
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The sample times.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The sample values.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// First and last sample time.
    pub fn time_span(&self) -> Option<(f64, f64)> {
        Some((*self.times.first()?, *self.times.last()?))
    }

    /// `[min, max]` of the samples with index in `start..end`; `None` when empty.
    pub fn min_max(&self, mut start: usize, end: usize) -> Option<[f64; 2]> {
        let end = end.min(self.values.len());
        if start >= end {
            return None;
        }
        let mut acc = [f64::INFINITY, f64::NEG_INFINITY];
        while start < end {
            // The largest aligned block starting at `start` that fits in the range.
            let mut k = 0;
            while k < self.levels.len()
                && start.is_multiple_of(1 << (k + 1))
                && start + (1 << (k + 1)) <= end
            {
                k += 1;
            }
            let block = if k == 0 {
                let v = self.values[start];
                [v, v]
            } else {
                self.levels[k - 1][start >> k]
            };
            acc = [acc[0].min(block[0]), acc[1].max(block[1])];
            start += 1 << k;
        }
        Some(acc)
    }

    /// The points `[t, v]` to draw `[x_min, x_max]` on `columns` pixel columns.
    pub fn decimate(&self, x_min: f64, x_max: f64, columns: usize) -> Vec<[f64; 2]> {
        let columns = columns.max(1);
        let first = self.times.partition_point(|&t| t < x_min).saturating_sub(1);
        let last = (self.times.partition_point(|&t| t <= x_max) + 1).min(self.times.len());
        if first >= last {
            return Vec::new();
        }
        if last - first <= 2 * columns || x_max <= x_min {
            return (first..last)
                .map(|i| [self.times[i], self.values[i]])
                .collect();
        }
        let mut points = Vec::with_capacity(2 * columns + 2);
        let mut start = first;
        if self.times[first] < x_min {
            points.push([self.times[first], self.values[first]]);
            start += 1;
        }
        let width = (x_max - x_min) / columns as f64;
        for column in 0..columns {
            let right = if column + 1 == columns {
                x_max
            } else {
                x_min + width * (column + 1) as f64
            };
            let end = start + self.times[start..last].partition_point(|&t| t <= right);
            if let Some([low, high]) = self.min_max(start, end) {
                let middle = x_min + width * (column as f64 + 0.5);
                let previous = points.last().map_or(low, |p: &[f64; 2]| p[1]);
                if (previous - high).abs() < (previous - low).abs() {
                    points.extend([[middle, high], [middle, low]]);
                } else {
                    points.extend([[middle, low], [middle, high]]);
                }
            }
            start = end;
        }
        if start < last {
            points.push([self.times[last - 1], self.values[last - 1]]);
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force min/max per column, straight from the definition.
    fn columns_by_definition(
        times: &[f64],
        values: &[f64],
        x_min: f64,
        x_max: f64,
        columns: usize,
    ) -> Vec<Option<[f64; 2]>> {
        let width = (x_max - x_min) / columns as f64;
        (0..columns)
            .map(|c| {
                let left = x_min + width * c as f64;
                let right = if c + 1 == columns {
                    x_max
                } else {
                    x_min + width * (c + 1) as f64
                };
                let inside: Vec<f64> = times
                    .iter()
                    .zip(values)
                    .filter(|(t, _)| {
                        let after_left = if c == 0 { **t >= left } else { **t > left };
                        after_left && **t <= right
                    })
                    .map(|(_, v)| *v)
                    .collect();
                (!inside.is_empty()).then(|| {
                    let low = inside.iter().copied().fold(f64::INFINITY, f64::min);
                    let high = inside.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    [low, high]
                })
            })
            .collect()
    }

    #[test]
    fn ten_million_samples_keep_a_one_sample_spike() {
        let len = 10_000_000;
        let spike_at = 6_543_210;
        let times: Vec<f64> = (0..len).map(|i| i as f64 * 1e-4).collect();
        let values: Vec<f64> = (0..len)
            .map(|i| if i == spike_at { 95.0 } else { 5.0 })
            .collect();
        let envelope = Envelope::from_points(&times, &values).expect("in order");
        let (start, end) = envelope.time_span().expect("samples");
        let points = envelope.decimate(start, end, 1200);
        assert!(points.len() <= 2 * 1200 + 2, "{} points", points.len());
        let highest = points
            .iter()
            .map(|p| p[1])
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(highest, 95.0);
        // The spike's column is the one whose middle is nearest its time.
        let spike_t = times[spike_at];
        let width = (end - start) / 1200.0;
        let at = points.iter().find(|p| p[1] == 95.0).expect("spike")[0];
        assert!((at - spike_t).abs() <= width / 2.0 + 1e-9);
    }

    #[test]
    fn every_column_holds_its_minimum_and_maximum() {
        // Uneven spacing and values from a fixed scramble, so blocks misalign with columns.
        let times: Vec<f64> = (0..5000_u64)
            .map(|i| i as f64 + ((i * 7919) % 13) as f64 / 20.0)
            .collect();
        let values: Vec<f64> = (0..5000_u64)
            .map(|i| ((i * 2_654_435_761) % 1000) as f64)
            .collect();
        let envelope = Envelope::from_points(&times, &values).expect("in order");
        let (x_min, x_max, columns) = (123.4, 4321.0, 97);
        let expected = columns_by_definition(&times, &values, x_min, x_max, columns);
        let points = envelope.decimate(x_min, x_max, columns);
        // Drop the points beyond each edge; the rest come in pairs, one pair per column.
        let inner: Vec<[f64; 2]> = points
            .into_iter()
            .filter(|p| p[0] >= x_min && p[0] <= x_max)
            .collect();
        let got: Vec<[f64; 2]> = inner
            .chunks(2)
            .map(|pair| [pair[0][1].min(pair[1][1]), pair[0][1].max(pair[1][1])])
            .collect();
        let expected: Vec<[f64; 2]> = expected.into_iter().flatten().collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn block_queries_match_a_scan() {
        let values: Vec<f64> = (0..300_u64).map(|i| ((i * 37) % 101) as f64).collect();
        let times: Vec<f64> = (0..300).map(f64::from).collect();
        let envelope = Envelope::from_points(&times, &values).expect("in order");
        for (start, end) in [(0, 300), (1, 2), (5, 133), (64, 128), (63, 257), (299, 300)] {
            let slice = &values[start..end];
            let low = slice.iter().copied().fold(f64::INFINITY, f64::min);
            let high = slice.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(
                envelope.min_max(start, end),
                Some([low, high]),
                "{start}..{end}"
            );
        }
        assert_eq!(envelope.min_max(10, 10), None);
    }

    #[test]
    fn short_ranges_return_the_samples_with_their_neighbours() {
        let times = [0.0, 1.0, 2.0, 3.0, 4.0];
        let values = [1.0, 2.0, 3.0, 4.0, 5.0];
        let envelope = Envelope::from_points(&times, &values).expect("in order");
        let points = envelope.decimate(1.5, 2.5, 100);
        assert_eq!(points, vec![[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]]);
    }

    #[test]
    fn samples_back_in_time_or_not_finite_are_refused() {
        let mut envelope = Envelope::new();
        envelope.push(1.0, 2.0).expect("first");
        assert_eq!(envelope.push(0.5, 2.0), Err((0.5, 2.0)));
        assert!(envelope.push(2.0, f64::NAN).is_err());
        assert_eq!(envelope.len(), 1);
    }
}
