//! The sampler thread: owns a started power source, polls it on schedule, and sends its
//! samples over a bounded channel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::SessionClock;
use crate::power::{PowerError, PowerSample, PowerSource};

/// Batches of samples the channel holds before the sampler waits for the reader.
const CHANNEL_CAPACITY: usize = 256;

/// Longest sleep between checks of the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// What the sampler thread reports.
#[derive(Debug)]
pub enum SamplerEvent {
    /// New samples in time order.
    Samples(Vec<PowerSample>),
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
    pub fn spawn(
        mut source: Box<dyn PowerSource>,
        clock: SessionClock,
    ) -> Result<Sampler, PowerError> {
        source.start(&clock)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, events) = sync_channel(CHANNEL_CAPACITY);
        let thread_stop = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("power-sampler".to_owned())
            .spawn(move || sample_until_stopped(source.as_mut(), &clock, &thread_stop, &sender))
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

fn sample_until_stopped(
    source: &mut dyn PowerSource,
    clock: &SessionClock,
    stop: &AtomicBool,
    sender: &SyncSender<SamplerEvent>,
) {
    let interval = source.poll_interval();
    let mut next = clock.elapsed() + interval;
    loop {
        let stopping = wait_until(clock, next, stop);
        let event = match source.poll(clock) {
            Ok(samples) if samples.is_empty() => None,
            Ok(samples) => Some(SamplerEvent::Samples(samples)),
            Err(err) => Some(SamplerEvent::Failed(err)),
        };
        let failed = matches!(event, Some(SamplerEvent::Failed(_)));
        if let Some(event) = event
            && send(sender, event).is_err()
        {
            break;
        }
        if failed || stopping {
            break;
        }
        next += interval;
        // After a stall, skip the missed ticks instead of polling in a burst.
        let now = clock.elapsed();
        if next < now {
            next = now + interval;
        }
    }
    if let Err(err) = source.stop() {
        tracing::warn!("stopping the power source: {err}");
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

    /// Gives one sample per poll at 2 W, and fails on poll `fail_at` if set.
    struct Steady {
        polls: usize,
        fail_at: Option<usize>,
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
            }
        }
        samples
    }

    #[test]
    fn samples_arrive_in_time_order_until_stopped() {
        let source = Box::new(Steady {
            polls: 0,
            fail_at: None,
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
}
