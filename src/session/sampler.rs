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
            .map_err(|source| PowerError::Read {
                path: "power-sampler thread".into(),
                source,
            })?;
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
