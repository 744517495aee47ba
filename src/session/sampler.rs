//! The sampler thread: owns a started power source, polls it on schedule, and sends its
//! samples over a bounded channel.
//!
//! **Reconnect.** A sampler spawned with [`Sampler::spawn_reconnecting`] treats a
//! disconnect ([`PowerError::is_disconnect`]: port closed, meter silent) as a pause, not
//! the end: it reports [`SamplerEvent::Disconnected`], stops the old source, tries to open
//! it again every [`RECONNECT_INTERVAL`] until it can (or the sampler is stopped), and
//! reports [`SamplerEvent::Reconnected`] with the [`Gap`] in the trace. Samples keep
//! going into the same session; the gap has no samples, so the energy code reports it
//! like any other gap (see [`crate::session::energy`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::SessionClock;
use super::energy::Gap;
use crate::power::{Clock as _, PowerError, PowerSample, PowerSource};

/// Time between two attempts to reopen a disconnected source.
pub const RECONNECT_INTERVAL: Duration = Duration::from_millis(500);

/// Opens the source again after a disconnect.
pub type Reopen = Box<dyn FnMut() -> Result<Box<dyn PowerSource>, PowerError> + Send>;

/// Batches of samples the channel holds before the sampler waits for the reader.
const CHANNEL_CAPACITY: usize = 256;

/// Longest sleep between checks of the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// What the sampler thread reports.
#[derive(Debug)]
pub enum SamplerEvent {
    /// New samples in time order.
    Samples(Vec<PowerSample>),
    /// The source went away at `at_s` (session seconds); the sampler keeps trying to
    /// open it again.
    Disconnected { at_s: f64, error: PowerError },
    /// The source is back; the trace has no samples within `gap`.
    Reconnected { gap: Gap },
    /// The source failed; the sampler has stopped.
    Failed(PowerError),
}

/// A running sampler thread.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    events: Receiver<SamplerEvent>,
    handle: JoinHandle<()>,
}

impl Sampler {
    /// Starts `source` on `clock` and polls it on a thread named `power-sampler`.
    /// A disconnect ends it like any failure.
    pub fn spawn(source: Box<dyn PowerSource>, clock: SessionClock) -> Result<Sampler, PowerError> {
        Sampler::spawn_with(source, clock, None)
    }

    /// Like [`spawn`](Sampler::spawn), but after a disconnect it calls `reopen` until the
    /// source is back and goes on in the same session.
    pub fn spawn_reconnecting(
        source: Box<dyn PowerSource>,
        clock: SessionClock,
        reopen: Reopen,
    ) -> Result<Sampler, PowerError> {
        Sampler::spawn_with(source, clock, Some(reopen))
    }

    fn spawn_with(
        mut source: Box<dyn PowerSource>,
        clock: SessionClock,
        reopen: Option<Reopen>,
    ) -> Result<Sampler, PowerError> {
        source.start(&clock)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, events) = sync_channel(CHANNEL_CAPACITY);
        let thread_stop = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("power-sampler".to_owned())
            .spawn(move || sample_reconnecting(source, &clock, &thread_stop, &sender, reopen))
            .map_err(PowerError::Thread)?;
        Ok(Sampler {
            stop,
            events,
            handle,
        })
    }

    /// The events sent so far.
    pub fn events(&self) -> &Receiver<SamplerEvent> {
        &self.events
    }

    /// Polls one last time, stops the source and returns the events not yet received.
    pub fn stop(self) -> Vec<SamplerEvent> {
        self.stop.store(true, Ordering::Release);
        let mut rest = Vec::new();
        // Drain while waiting, so a full channel cannot block the thread forever.
        while !self.handle.is_finished() {
            match self.events.recv_timeout(STOP_CHECK) {
                Ok(event) => rest.push(event),
                Err(_) => continue,
            }
        }
        rest.extend(self.events.try_iter());
        if self.handle.join().is_err() {
            tracing::error!("the power sampler thread panicked; its last samples are lost");
        }
        rest
    }
}

/// How one source's polling ended.
enum End {
    /// Asked to stop, or nobody listens any more.
    Stopped,
    /// The source failed.
    Failed(PowerError),
}

/// Polls `source` until stopped; after a disconnect, reopens it with `reopen` (if any)
/// and goes on.
fn sample_reconnecting(
    mut source: Box<dyn PowerSource>,
    clock: &SessionClock,
    stop: &AtomicBool,
    sender: &SyncSender<SamplerEvent>,
    mut reopen: Option<Reopen>,
) {
    let mut last_sample_s = None;
    loop {
        let end = sample_until_stopped(source.as_mut(), clock, stop, sender, &mut last_sample_s);
        if let Err(err) = source.stop() {
            tracing::warn!("stopping the power source: {err}");
        }
        let err = match end {
            End::Stopped => return,
            End::Failed(err) => err,
        };
        let Some(reopen) = reopen.as_mut().filter(|_| err.is_disconnect()) else {
            let _ = send(sender, SamplerEvent::Failed(err));
            return;
        };
        let at_s = clock.now_s();
        if send(sender, SamplerEvent::Disconnected { at_s, error: err }).is_err() {
            return;
        }
        let Some(back) = reconnect(reopen, clock, stop) else {
            return;
        };
        source = back;
        let gap = Gap {
            start_s: last_sample_s.unwrap_or(at_s),
            end_s: clock.now_s(),
        };
        if send(sender, SamplerEvent::Reconnected { gap }).is_err() {
            return;
        }
    }
}

/// Tries to open and start the source every [`RECONNECT_INTERVAL`]; `None` when the
/// sampler was stopped first.
fn reconnect(
    reopen: &mut Reopen,
    clock: &SessionClock,
    stop: &AtomicBool,
) -> Option<Box<dyn PowerSource>> {
    let mut attempts = 0u32;
    loop {
        if wait_until(clock, clock.elapsed() + RECONNECT_INTERVAL, stop) {
            return None;
        }
        attempts += 1;
        let attempt = reopen().and_then(|mut source| source.start(clock).map(|()| source));
        match attempt {
            Ok(source) => {
                tracing::info!("the power source is back after {attempts} attempts");
                return Some(source);
            }
            Err(err) => tracing::debug!("reconnect attempt {attempts}: {err}"),
        }
    }
}

fn sample_until_stopped(
    source: &mut dyn PowerSource,
    clock: &SessionClock,
    stop: &AtomicBool,
    sender: &SyncSender<SamplerEvent>,
    last_sample_s: &mut Option<f64>,
) -> End {
    let interval = source.poll_interval();
    let mut next = clock.elapsed() + interval;
    loop {
        let stopping = wait_until(clock, next, stop);
        match source.poll(clock) {
            Ok(samples) if samples.is_empty() => {}
            Ok(samples) => {
                *last_sample_s = samples.last().map(|sample| sample.t_s);
                if send(sender, SamplerEvent::Samples(samples)).is_err() {
                    return End::Stopped;
                }
            }
            Err(err) => return End::Failed(err),
        }
        if stopping {
            return End::Stopped;
        }
        next += interval;
        // After a stall, skip the missed ticks instead of polling in a burst.
        let now = clock.elapsed();
        if next < now {
            next = now + interval;
        }
    }
}

/// Sleeps until `deadline` on the session clock; true when asked to stop meanwhile.
fn wait_until(clock: &SessionClock, deadline: Duration, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Acquire) {
            return true;
        }
        let now = clock.elapsed();
        if now >= deadline {
            return false;
        }
        thread::sleep((deadline - now).min(STOP_CHECK));
    }
}

/// Sends without blocking forever: retries while the channel is full, gives up when the
/// reader is gone.
fn send(sender: &SyncSender<SamplerEvent>, mut event: SamplerEvent) -> Result<(), ()> {
    loop {
        match sender.try_send(event) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(_)) => return Err(()),
            Err(TrySendError::Full(back)) => {
                event = back;
                thread::sleep(STOP_CHECK);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::{Clock, Quantity, Resolution, SourceInfo};

    /// Gives one sample per poll at 2 W, and fails on poll `fail_at` if set (with a
    /// disconnect when `disconnect` is set).
    struct Steady {
        polls: usize,
        fail_at: Option<usize>,
        disconnect: bool,
    }

    impl PowerSource for Steady {
        fn info(&self) -> SourceInfo {
            SourceInfo {
                spec: "steady".into(),
                description: "test source".into(),
                quantity: Quantity::Power,
                rate_hz: 200.0,
                resolution: Resolution::PowerW(1.0),
                coarse: false,
                clock_offset_s: None,
            }
        }

        fn poll_interval(&self) -> Duration {
            Duration::from_millis(5)
        }

        fn start(&mut self, _clock: &dyn Clock) -> Result<(), PowerError> {
            Ok(())
        }

        fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
            self.polls += 1;
            if self.fail_at == Some(self.polls) && self.disconnect {
                return Err(crate::serial::SerialError::Disconnected {
                    port: "/dev/pts/9".into(),
                    what: "end of file".into(),
                }
                .into());
            }
            if self.fail_at == Some(self.polls) {
                return Err(PowerError::OnAcPower {
                    battery: "BAT0".into(),
                    status: "Charging".into(),
                });
            }
            Ok(vec![PowerSample::power(clock.now_s(), 2.0)])
        }

        fn stop(&mut self) -> Result<(), PowerError> {
            Ok(())
        }
    }

    fn samples_of(events: impl IntoIterator<Item = SamplerEvent>) -> Vec<PowerSample> {
        let mut samples = Vec::new();
        for event in events {
            match event {
                SamplerEvent::Samples(batch) => samples.extend(batch),
                SamplerEvent::Failed(err) => panic!("unexpected failure: {err}"),
                other => panic!("unexpected event: {other:?}"),
            }
        }
        samples
    }

    #[test]
    fn samples_arrive_in_time_order_until_stopped() {
        let source = Box::new(Steady {
            polls: 0,
            fail_at: None,
            disconnect: false,
        });
        let sampler = Sampler::spawn(source, SessionClock::start_now()).expect("spawns");
        thread::sleep(Duration::from_millis(100));
        let samples = samples_of(sampler.stop());
        assert!(samples.len() >= 2, "{} samples", samples.len());
        assert!(samples.windows(2).all(|w| w[0].t_s < w[1].t_s));
    }

    #[test]
    fn a_failing_source_reports_and_stops() {
        let source = Box::new(Steady {
            polls: 0,
            fail_at: Some(3),
            disconnect: false,
        });
        let sampler = Sampler::spawn(source, SessionClock::start_now()).expect("spawns");
        let mut seen = Vec::new();
        while let Ok(event) = sampler.events().recv_timeout(Duration::from_secs(5)) {
            let failed = matches!(event, SamplerEvent::Failed(_));
            seen.push(event);
            if failed {
                break;
            }
        }
        assert!(
            matches!(seen.last(), Some(SamplerEvent::Failed(_))),
            "{seen:?}"
        );
        assert_eq!(seen.len(), 3, "two batches, then the failure");
        assert!(sampler.stop().is_empty());
    }

    #[test]
    fn a_disconnected_source_is_reopened_and_the_gap_reported() {
        let first = Box::new(Steady {
            polls: 0,
            fail_at: Some(4),
            disconnect: true,
        });
        // The first reopen fails (still unplugged), the second works.
        let mut attempts = 0;
        let reopen: Reopen = Box::new(move || {
            attempts += 1;
            if attempts == 1 {
                return Err(crate::serial::SerialError::NotFound {
                    port: "/dev/pts/9".into(),
                }
                .into());
            }
            Ok(Box::new(Steady {
                polls: 0,
                fail_at: None,
                disconnect: false,
            }) as Box<dyn PowerSource>)
        });
        let sampler =
            Sampler::spawn_reconnecting(first, SessionClock::start_now(), reopen).expect("spawns");
        let mut events = Vec::new();
        while let Ok(event) = sampler.events().recv_timeout(Duration::from_secs(5)) {
            let back = matches!(event, SamplerEvent::Reconnected { .. });
            events.push(event);
            if back {
                break;
            }
        }
        thread::sleep(Duration::from_millis(50));
        events.extend(sampler.stop());

        let disconnected = events
            .iter()
            .position(|e| matches!(e, SamplerEvent::Disconnected { .. }))
            .expect("a disconnect");
        let Some(gap) = events.iter().find_map(|e| match e {
            SamplerEvent::Reconnected { gap } => Some(*gap),
            _ => None,
        }) else {
            panic!("no reconnect in {events:?}")
        };
        assert!(!events.iter().any(|e| matches!(e, SamplerEvent::Failed(_))));
        let before: Vec<PowerSample> = samples_of(events.drain(..disconnected));
        assert_eq!(before.len(), 3, "three polls before the disconnect");
        // Two reconnect intervals passed: one failed attempt, one that worked.
        assert!(gap.end_s - gap.start_s >= 2.0 * RECONNECT_INTERVAL.as_secs_f64() - 0.01);
        assert_eq!(gap.start_s, before[2].t_s);
        let after: Vec<PowerSample> = events
            .into_iter()
            .filter_map(|e| match e {
                SamplerEvent::Samples(batch) => Some(batch),
                _ => None,
            })
            .flatten()
            .collect();
        assert!(!after.is_empty(), "samples resume after the reconnect");
        assert!(after[0].t_s > gap.end_s);
    }

    #[test]
    fn without_reopen_a_disconnect_ends_the_sampler() {
        let source = Box::new(Steady {
            polls: 0,
            fail_at: Some(2),
            disconnect: true,
        });
        let sampler = Sampler::spawn(source, SessionClock::start_now()).expect("spawns");
        let mut failed = None;
        while let Ok(event) = sampler.events().recv_timeout(Duration::from_secs(5)) {
            if let SamplerEvent::Failed(err) = event {
                failed = Some(err);
                break;
            }
        }
        assert!(failed.is_some_and(|err| err.is_disconnect()));
    }
}
