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
//!
//! **Source facts.** Some of what a source is known only once it runs: a device with its
//! own clock learns the offset to the session clock at the first samples
//! ([`SourceInfo::clock_offset_s`]). The sampler compares [`PowerSource::info`] after the
//! start and after polls with what it last reported, at most once per
//! [`INFO_CHECK_INTERVAL`] once the offset is known, and sends
//! [`SamplerEvent::Source`] when it changed, so the journal can keep `session.json`
//! current. After a reconnect the new connection's facts replace the old ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::SessionClock;
use super::energy::Gap;
use crate::power::{Clock as _, PowerError, PowerSample, PowerSource, SourceInfo};

/// Time between two attempts to reopen a disconnected source.
pub const RECONNECT_INTERVAL: Duration = Duration::from_millis(500);

/// Opens the source again after a disconnect.
pub type Reopen = Box<dyn FnMut() -> Result<Box<dyn PowerSource>, PowerError> + Send>;

/// Shortest time between two reports of a source's changed facts once its clock offset
/// is known (a device clock's offset is refined as readings arrive).
pub const INFO_CHECK_INTERVAL: Duration = Duration::from_secs(1);

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
    /// The source's facts changed since it was opened or last reported (e.g. its clock
    /// offset became known).
    Source(SourceInfo),
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
        let opened = source.info();
        source.start(&clock)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, events) = sync_channel(CHANNEL_CAPACITY);
        let thread_stop = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("power-sampler".to_owned())
            .spawn(move || {
                let mut reported = Reported::new(opened);
                sample_reconnecting(source, &clock, &thread_stop, &sender, reopen, &mut reported);
            })
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
    reported: &mut Reported,
) {
    let mut last_sample_s = None;
    loop {
        let end = sample_until_stopped(
            source.as_mut(),
            clock,
            stop,
            sender,
            &mut last_sample_s,
            reported,
        );
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

/// The source facts last reported, and when to look again.
struct Reported {
    info: SourceInfo,
    next_check: Duration,
}

impl Reported {
    fn new(opened: SourceInfo) -> Reported {
        Reported {
            info: opened,
            next_check: Duration::ZERO,
        }
    }

    /// Sends the source's facts if they changed and a check is due; `Err` when nobody
    /// listens any more.
    fn check(
        &mut self,
        source: &dyn PowerSource,
        clock: &SessionClock,
        sender: &SyncSender<SamplerEvent>,
    ) -> Result<(), ()> {
        let now = clock.elapsed();
        if now < self.next_check && self.info.clock_offset_s.is_some() {
            return Ok(());
        }
        self.next_check = now + INFO_CHECK_INTERVAL;
        let info = source.info();
        if info == self.info {
            return Ok(());
        }
        self.info = info.clone();
        send(sender, SamplerEvent::Source(info))
    }
}

fn sample_until_stopped(
    source: &mut dyn PowerSource,
    clock: &SessionClock,
    stop: &AtomicBool,
    sender: &SyncSender<SamplerEvent>,
    last_sample_s: &mut Option<f64>,
    reported: &mut Reported,
) -> End {
    let interval = source.poll_interval();
    let mut next = clock.elapsed() + interval;
    // Just started (or reconnected): the facts are due at once.
    reported.next_check = Duration::ZERO;
    if reported.check(source, clock, sender).is_err() {
        return End::Stopped;
    }
    loop {
        let stopping = wait_until(clock, next, stop);
        match source.poll(clock) {
            Ok(samples) if samples.is_empty() => {}
            Ok(samples) => {
                *last_sample_s = samples.last().map(|sample| sample.t_s);
                if send(sender, SamplerEvent::Samples(samples)).is_err()
                    || reported.check(source, clock, sender).is_err()
                {
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

    /// A device clock whose offset is known after the first poll, as a meter that
    /// anchors its clock when the first readings arrive.
    struct Anchored {
        offset_s: Option<f64>,
    }

    impl PowerSource for Anchored {
        fn info(&self) -> SourceInfo {
            SourceInfo {
                spec: "anchored".into(),
                clock_offset_s: self.offset_s,
                ..Steady::new().info()
            }
        }

        fn poll_interval(&self) -> Duration {
            Duration::from_millis(5)
        }

        fn start(&mut self, _clock: &dyn Clock) -> Result<(), PowerError> {
            Ok(())
        }

        fn poll(&mut self, clock: &dyn Clock) -> Result<Vec<PowerSample>, PowerError> {
            self.offset_s.get_or_insert(0.25);
            Ok(vec![PowerSample::power(clock.now_s(), 2.0)])
        }

        fn stop(&mut self) -> Result<(), PowerError> {
            Ok(())
        }
    }

    impl Steady {
        fn new() -> Steady {
            Steady {
                polls: 0,
                fail_at: None,
                disconnect: false,
            }
        }
    }

    #[test]
    fn a_clock_offset_learned_while_running_is_reported_once() {
        let source = Box::new(Anchored { offset_s: None });
        let sampler = Sampler::spawn(source, SessionClock::start_now()).expect("spawns");
        thread::sleep(Duration::from_millis(100));
        let reported: Vec<SourceInfo> = sampler
            .stop()
            .into_iter()
            .filter_map(|event| match event {
                SamplerEvent::Source(info) => Some(info),
                _ => None,
            })
            .collect();
        assert_eq!(reported.len(), 1, "{reported:?}");
        assert_eq!(reported[0].clock_offset_s, Some(0.25));
    }

    #[test]
    fn a_source_whose_facts_do_not_change_reports_none() {
        let sampler =
            Sampler::spawn(Box::new(Steady::new()), SessionClock::start_now()).expect("spawns");
        thread::sleep(Duration::from_millis(50));
        // `samples_of` refuses any event but samples.
        assert!(!samples_of(sampler.stop()).is_empty());
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
