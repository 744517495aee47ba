//! The multi-threaded path: one call split into contiguous chunks, one chunk per thread.
//!
//! A [`Pool`] owns `threads − 1` worker threads; the calling thread computes the first chunk
//! itself while the workers take the others, and the call returns when every chunk is done.
//! Between calls a worker spins on the call counter for [`SPIN`] before it sleeps on a
//! condition variable: back-to-back calls (a benchmark, a model's layers) then start within
//! a fraction of a microsecond, where waking a sleeping thread costs ~10 µs in a VM (a rayon
//! pool measured 10 µs per call at 8K elements and 1.67× instead of 2.0× at 1M).
//! Chunk boundaries fall on multiples of 16 elements (64 bytes), so every chunk starts as
//! aligned as the whole output (non-temporal stores stay aligned), and two threads share at
//! most the one cache line a boundary falls in when the output itself is not 64-byte
//! aligned. A second call while one is running (another thread, or a kernel that splits
//! again) runs on its own thread: one pool serves one call at a time.
//!
//! Handing a chunk to another thread and waiting for it costs microseconds, more than a
//! small tensor's whole kernel, so a call runs on the calling thread alone
//! unless every thread gets at least `min_per_thread` elements: [`PARALLEL_MIN_ELEMENTS`]
//! for the f32 kernels, measured by `benches/parallel.rs` (see the README).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::activation::Activation;
use super::dispatch::{Isa, Stores, apply_with_stores};

/// Elements each thread must get before an f32 call is split: 16K (64 KiB of input per
/// thread). `benches/parallel.rs` on the reference machine (2 threads): ReLU at 16K total
/// ran at half its single-thread speed split and at 1.4× from 32K; sigmoid and tanh won
/// from 8K (1.4–1.5×) and reached 1.9–2.0× from 64K.
pub const PARALLEL_MIN_ELEMENTS: usize = 16 << 10;

/// Codes each thread must get before an int8 call is split: 32K. The table kernels run
/// about twenty times as many elements per second as the f32 ones; split at 64K codes they
/// ran 1.2× faster, at 1M 2.2× (`benches/parallel.rs`).
pub const PARALLEL_MIN_CODES: usize = 32 << 10;

/// Chunk boundaries fall on multiples of this many elements (64 bytes of f32).
const CHUNK_ALIGN: usize = 16;

/// How many of `threads` a call on `len` elements runs on when each must get at least
/// `min_per_thread` elements (1: the calling thread alone).
pub fn threads_used(len: usize, min_per_thread: usize, threads: usize) -> usize {
    (len / min_per_thread.max(1)).clamp(1, threads.max(1))
}

/// How long an idle worker spins before it sleeps.
pub const SPIN: Duration = Duration::from_micros(500);

/// A chunk of work for worker `index` (1-based; the caller does chunk 0).
type Job = dyn Fn(usize) + Sync;

/// Worker threads for splitting kernel calls.
pub struct Pool {
    /// Held for the duration of a split call: a second caller at the same time (another
    /// thread, or a kernel that splits again from inside a call) finds it taken and runs
    /// on its own thread instead, so the workers never serve two calls at once.
    busy: Mutex<()>,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    threads: usize,
}

/// What the caller and the workers share.
struct Shared {
    /// Bumped once per call (and once to stop); a worker runs the job of each new value.
    calls: AtomicU64,
    /// The current call's job. Only valid while the caller waits in [`Pool::run`].
    job: Mutex<Option<&'static Job>>,
    /// Workers still running the current call's job.
    remaining: AtomicUsize,
    /// Set when a job panicked on a worker; the caller panics in turn.
    panicked: AtomicBool,
    stop: AtomicBool,
    /// Workers asleep (or about to be), and what they sleep on.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
}

impl Pool {
    /// A pool for calls on `threads` threads: the caller plus `threads − 1` workers, started
    /// now (1 or 0 threads: no workers, every call runs on the caller).
    ///
    /// # Errors
    /// If the operating system refuses to start a worker thread (those already started are
    /// stopped again).
    pub fn new(threads: usize) -> std::io::Result<Pool> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            calls: AtomicU64::new(0),
            job: Mutex::new(None),
            remaining: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
        });
        let mut pool = Pool {
            busy: Mutex::new(()),
            shared,
            workers: Vec::with_capacity(threads - 1),
            threads,
        };
        for index in 1..threads {
            let shared = Arc::clone(&pool.shared);
            let worker = std::thread::Builder::new()
                .name(format!("actprof-worker-{index}"))
                .spawn(move || shared.serve(index))?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    /// Threads a large call runs on, the caller included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How many threads a call on `len` elements uses, with at least `min_per_thread` each.
    pub fn threads_for(&self, len: usize, min_per_thread: usize) -> usize {
        threads_used(len, min_per_thread, self.threads)
    }

    /// `output[i] = activation(input[i])` with the dispatched kernel, split across the pool
    /// from [`PARALLEL_MIN_ELEMENTS`] per thread on; the same results as
    /// [`super::apply`] (each element is computed by the same code whatever the split).
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn apply(&self, activation: Activation, input: &[f32], output: &mut [f32]) {
        self.apply_with(Isa::detect(), activation, input, output);
    }

    /// Like [`Pool::apply`] on a chosen instruction set.
    ///
    /// # Panics
    /// If the slices differ in length, or if `isa` is not available on this CPU.
    pub fn apply_with(&self, isa: Isa, activation: Activation, input: &[f32], output: &mut [f32]) {
        assert_eq!(
            input.len(),
            output.len(),
            "kernel input and output lengths differ"
        );
        // Streaming or not is decided on the whole output, not on each chunk.
        let stores = Stores::Auto.resolve(output.len());
        self.split(input, output, PARALLEL_MIN_ELEMENTS, |input, output| {
            apply_with_stores(isa, stores, activation, input, output);
        });
    }

    /// Runs `kernel` on matching chunks of `input` and `output`, one per thread, when every
    /// thread gets at least `min_per_thread` elements; otherwise on the whole slices, on
    /// the calling thread. Returns when every chunk is done.
    ///
    /// # Panics
    /// If the slices differ in length; if `kernel` panics on any thread.
    pub fn split<T, K>(&self, input: &[T], output: &mut [T], min_per_thread: usize, kernel: K)
    where
        T: Send + Sync,
        K: Fn(&[T], &mut [T]) + Sync,
    {
        assert_eq!(
            input.len(),
            output.len(),
            "split input and output lengths differ"
        );
        let threads = self.threads_for(input.len(), min_per_thread);
        let guard = match self.busy.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if threads == 1 || guard.is_none() {
            kernel(input, output);
            return;
        }
        let chunk = input.len().div_ceil(threads).next_multiple_of(CHUNK_ALIGN);
        // Worker `index` takes chunk `index`; the raw parts let each thread rebuild its own
        // disjoint output chunk.
        let output_start = SendPtr(output.as_mut_ptr());
        let len = output.len();
        let part = |index: usize| {
            if index >= threads {
                // A worker beyond the chunks this call needs.
                return;
            }
            let start = (index * chunk).min(len);
            let end = (start + chunk).min(len);
            // SAFETY: the chunks [index·chunk, (index+1)·chunk) ∩ [0, len) of different
            // indices are disjoint, each index runs exactly once per call, and `run` returns
            // only after every index finished, while `output` is still mutably borrowed
            // here: each thread has exclusive access to its own chunk for that time.
            let output =
                unsafe { std::slice::from_raw_parts_mut(output_start.at(start), end - start) };
            kernel(&input[start..end], output);
        };
        self.run(&part);
    }

    /// Runs `part(0)` here and `part(1) … part(workers)` on the workers (every worker runs
    /// its index, needed or not), and returns when all have finished; a panic in any part is
    /// raised here after all have finished.
    fn run(&self, part: &(dyn Fn(usize) + Sync + '_)) {
        let shared = &*self.shared;
        // SAFETY: `run` is only reached with `busy` held (see `split`), so this is the one
        // call the workers serve. The job is only called by workers between the `calls` bump
        // below and their decrement of `remaining`, and this function waits for `remaining`
        // to reach 0 (also when `part(0)` panics) before it returns and `part` goes out of
        // scope; the slot is cleared before returning, so no stale reference outlives the
        // call.
        let job =
            unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Job>(part) };
        *lock(&shared.job) = Some(job);
        shared.remaining.store(self.workers.len(), Ordering::SeqCst);
        shared.calls.fetch_add(1, Ordering::SeqCst);
        shared.wake_sleepers();
        let own = panic::catch_unwind(AssertUnwindSafe(|| part(0)));
        while shared.remaining.load(Ordering::Acquire) != 0 {
            std::hint::spin_loop();
        }
        *lock(&shared.job) = None;
        // Cleared before anything is raised, so the next call starts clean.
        let worker_panicked = shared.panicked.swap(false, Ordering::AcqRel);
        if let Err(payload) = own {
            panic::resume_unwind(payload);
        }
        if worker_panicked {
            panic!("a kernel worker thread panicked");
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.calls.fetch_add(1, Ordering::SeqCst);
        self.shared.wake_sleepers();
        for worker in self.workers.drain(..) {
            // A worker that panicked outside a job has nothing left to report.
            let _ = worker.join();
        }
    }
}

impl Shared {
    /// A worker's life: wait for each new call and run its part.
    fn serve(&self, index: usize) {
        let mut seen = 0;
        loop {
            seen = self.wait_for_call(seen);
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            let job = *lock(&self.job);
            if let Some(job) = job
                && let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| job(index)))
            {
                self.panicked.store(true, Ordering::Release);
                // Dropping a payload may itself panic, which would kill this worker before
                // it checks out and leave the caller waiting: leak it instead.
                std::mem::forget(payload);
            }
            self.remaining.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Waits until `calls` differs from `seen` (spinning for [`SPIN`], then asleep) and
    /// returns its new value.
    fn wait_for_call(&self, seen: u64) -> u64 {
        let spin_start = Instant::now();
        let mut spins = 0_u32;
        loop {
            let now = self.calls.load(Ordering::SeqCst);
            if now != seen {
                return now;
            }
            spins = spins.wrapping_add(1);
            // Reading the clock costs more than a spin: look at it every 64th time.
            if spins.is_multiple_of(64) && spin_start.elapsed() >= SPIN {
                break;
            }
            std::hint::spin_loop();
        }
        let mut guard = lock(&self.sleep);
        // Counted before the last look at `calls` (both SeqCst): a caller that bumps `calls`
        // after that look sees this sleeper and notifies under the same mutex.
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let mut now = self.calls.load(Ordering::SeqCst);
        while now == seen {
            guard = self
                .wake
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
            now = self.calls.load(Ordering::SeqCst);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        now
    }

    /// Wakes every sleeping worker after `calls` was bumped.
    fn wake_sleepers(&self) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = lock(&self.sleep);
            self.wake.notify_all();
        }
    }
}

/// Locks a mutex whose data stays valid even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The start of the output, shared with the workers (each derives its own chunk from it).
struct SendPtr<T>(*mut T);

impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SendPtr<T> {}

// SAFETY: the pointer is only turned into disjoint chunks, one per thread (see `split`).
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above; sharing the pointer value itself is harmless.
unsafe impl<T: Send> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer `offset` elements further on (taken by value, so closures capture the
    /// whole `SendPtr` rather than its raw field).
    fn at(self, offset: usize) -> *mut T {
        self.0.wrapping_add(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{STREAMING_MIN_ELEMENTS, apply};

    fn ramp(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (i as f32 / len as f32 - 0.5) * 16.0)
            .collect()
    }

    #[test]
    fn small_calls_stay_on_the_caller() {
        let pool = Pool::new(2).expect("pool");
        assert_eq!(
            pool.threads_for(PARALLEL_MIN_ELEMENTS * 2 - 1, PARALLEL_MIN_ELEMENTS),
            1
        );
        assert_eq!(
            pool.threads_for(PARALLEL_MIN_ELEMENTS * 2, PARALLEL_MIN_ELEMENTS),
            2
        );
        assert_eq!(pool.threads_for(usize::MAX / 2, PARALLEL_MIN_ELEMENTS), 2);
        assert_eq!(Pool::new(0).expect("pool").threads(), 1);
    }

    #[test]
    fn split_results_equal_the_single_thread_kernel() {
        let pool = Pool::new(3).expect("pool");
        // Lengths around the split point and not multiples of 16 or of the thread count.
        for len in [
            0,
            1,
            17,
            3 * PARALLEL_MIN_ELEMENTS - 5,
            3 * PARALLEL_MIN_ELEMENTS + 37,
            STREAMING_MIN_ELEMENTS + 3,
        ] {
            let input = ramp(len);
            for activation in [Activation::Sigmoid, Activation::Relu, Activation::Tanh] {
                let mut single = vec![0.0; len];
                apply(activation, &input, &mut single);
                let mut split = vec![f32::NAN; len];
                pool.apply(activation, &input, &mut split);
                let same = single
                    .iter()
                    .zip(&split)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{activation} at {len} elements");
            }
        }
    }

    #[test]
    fn every_chunk_is_computed_once_on_distinct_threads() {
        let pool = Pool::new(2).expect("pool");
        let input: Vec<u32> = (0..1000).collect();
        let mut output = vec![0_u32; 1000];
        let seen = std::sync::Mutex::new(Vec::new());
        pool.split(&input, &mut output, 100, |input, output| {
            seen.lock()
                .expect("lock")
                .push((input[0], std::thread::current().id()));
            for (x, y) in input.iter().zip(output.iter_mut()) {
                *y = x + 1;
            }
        });
        assert!(output.iter().enumerate().all(|(i, &y)| y == i as u32 + 1));
        let mut seen = seen.into_inner().expect("lock");
        seen.sort_by_key(|(first, _)| *first);
        // 1000 / 2 rounded up to a multiple of 16: chunks start at 0 and 512.
        assert_eq!(
            seen.iter().map(|(first, _)| *first).collect::<Vec<_>>(),
            [0, 512]
        );
        assert_ne!(seen[0].1, seen[1].1, "the two chunks ran on one thread");
    }

    #[test]
    fn a_panicking_chunk_reaches_the_caller_and_the_pool_survives() {
        let pool = Pool::new(2).expect("pool");
        let input: Vec<u32> = (0..1000).collect();
        let mut output = vec![0_u32; 1000];
        for panicking_chunk in [0, 512] {
            let call = panic::catch_unwind(AssertUnwindSafe(|| {
                pool.split(&input, &mut output, 1, |input, _| {
                    assert_ne!(input[0], panicking_chunk, "chunk {panicking_chunk} fails");
                });
            }));
            assert!(call.is_err(), "chunk {panicking_chunk}'s panic was lost");
        }
        pool.split(&input, &mut output, 1, |input, output| {
            output.copy_from_slice(input)
        });
        assert_eq!(output, input);
    }

    #[test]
    fn a_call_after_every_chunk_panicked_runs_clean() {
        let pool = Pool::new(2).expect("pool");
        let input: Vec<u32> = (0..1000).collect();
        let mut output = vec![0_u32; 1000];
        let call = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.split(&input, &mut output, 1, |_, _| panic!("every chunk fails"));
        }));
        assert!(call.is_err());
        pool.split(&input, &mut output, 1, |input, output| {
            output.copy_from_slice(input)
        });
        assert_eq!(output, input);
    }

    #[test]
    fn concurrent_and_nested_calls_each_get_their_own_results() {
        let pool = Pool::new(2).expect("pool");
        let input: Vec<u32> = (0..4096).collect();
        std::thread::scope(|scope| {
            for offset in 1..=3_u32 {
                let (pool, input) = (&pool, &input);
                scope.spawn(move || {
                    for _ in 0..2000 {
                        let mut output = vec![0_u32; input.len()];
                        pool.split(input, &mut output, 1, |input, output| {
                            for (x, y) in input.iter().zip(output.iter_mut()) {
                                *y = x + offset;
                            }
                        });
                        assert!(output.iter().zip(input).all(|(y, x)| *y == x + offset));
                    }
                });
            }
        });
        // A kernel that splits again from inside a call (on the caller or a worker).
        let mut output = vec![0_u32; input.len()];
        pool.split(&input, &mut output, 1, |input, output| {
            pool.split(input, output, 1, |input, output| {
                for (x, y) in input.iter().zip(output.iter_mut()) {
                    *y = x * 2;
                }
            });
        });
        assert!(output.iter().zip(&input).all(|(y, x)| *y == x * 2));
    }
}
