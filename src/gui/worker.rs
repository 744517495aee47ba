//! The measuring thread: owns every run so the UI thread never times a kernel, a model or
//! a training epoch, and every board conversation so the UI thread never waits on a serial
//! port.
//!
//! The UI sends [`Command`]s over a bounded channel; the worker answers with
//! [`WorkerEvent`]s over another bounded channel and wakes the UI with
//! `request_repaint_after`, so a burst of events costs one repaint. While a kernel is timed
//! nothing else asks for repaints, so the UI redraws only on progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::harness::runner::run_plan;
use crate::harness::{Event, HostFacts, Plan};
use crate::power::{PowerSample, SourceInfo, SourceSpec};
use crate::serial::open_port;
use crate::session::energy::IdleBaseline;
use crate::session::powered::{DEFAULT_IDLE, DEFAULT_POLL_INTERVAL};
use crate::session::{CellEnergy, Journal, PoweredPlan, RunWindow, SessionEvent};
use crate::target::PortSpec;
use crate::target::board::runner::describe;
use crate::target::board::{
    BoardCell, BoardClient, BoardInfo, DEFAULT_LINE_TIMEOUT, run_plan_on_board,
};

use super::jobs::{self, ModelJob, ModelsUpdate, TrainingJob, TrainingUpdate};

/// Name of the measuring thread (shows in debuggers and `top -H`).
pub const THREAD_NAME: &str = "actprof-worker";

/// How long the UI may lag behind worker events; bursts within it coalesce into one repaint.
const REPAINT_DELAY: Duration = Duration::from_millis(100);

/// Commands waiting for the worker; one run at a time, so a few suffice.
const COMMAND_CAPACITY: usize = 4;

/// Events waiting for the UI. The worker blocks when the UI falls this far behind.
const EVENT_CAPACITY: usize = 256;

/// What the UI asks of the worker.
#[derive(Debug)]
pub enum Command {
    /// Measure this plan on this CPU, or on the board behind `board`.
    Start { plan: Plan, board: Option<PortSpec> },
    /// Time these models (the Models tab).
    StartModels(ModelJob),
    /// Run the training experiment (the Dying ReLU tab).
    StartTraining(TrainingJob),
    /// Stop the current run after the cell being measured; finished cells are kept.
    Cancel,
}

/// One run, as queued for the worker.
#[derive(Debug)]
enum Job {
    /// A kernel plan, on this CPU or on the board behind `board`.
    Kernels {
        plan: Plan,
        board: Option<PortSpec>,
    },
    Models(ModelJob),
    Training(TrainingJob),
}

/// What the worker tells the UI.
#[derive(Debug)]
pub enum WorkerEvent {
    /// Facts about this machine, sent once before anything else.
    Host(Box<HostFacts>),
    /// Progress of the current run.
    Run(Box<Event>),
    /// The power side of a run with a power source.
    Power(PowerUpdate),
    /// The board side of a run on a board.
    Board(BoardUpdate),
    /// Progress and results of a model run; it ends with its own `Done`.
    Models(ModelsUpdate),
    /// Progress and results of a training run; it ends with its own `Done`.
    Training(TrainingUpdate),
    /// The run has returned (sent after the harness's own events, even if it sent none).
    Done {
        /// Whether the run stopped early on Cancel.
        cancelled: bool,
    },
}

/// What a run with a power source reports besides the harness events.
#[derive(Debug)]
pub enum PowerUpdate {
    /// The source is open; the idle baseline starts.
    Started {
        info: Box<SourceInfo>,
        idle: Duration,
        estimated: Duration,
    },
    /// New samples.
    Samples(Vec<PowerSample>),
    /// A finished window (idle, then one per cell).
    Window(RunWindow),
    /// The energy of every finished cell, in result order.
    Energies {
        energies: Vec<Option<CellEnergy>>,
        idle: IdleBaseline,
        journal_dir: std::path::PathBuf,
    },
    /// The source could not be opened or failed; the message says which and why.
    Failed(String),
}

/// What a run on a board reports besides the harness events.
#[derive(Debug)]
pub enum BoardUpdate {
    /// The board answered `hello` and `caps`; its cells follow.
    Connected {
        /// The port it answered on.
        port: String,
        /// Its identity and timing.
        info: BoardInfo,
    },
    /// The run on the board is over: the finished cells (in plan order, with their cycle
    /// counts), and why it stopped early if it did.
    Finished {
        cells: Vec<BoardCell>,
        /// Cells whose output did not match the host's reference (reported as warnings).
        mismatches: usize,
        /// The port could not be opened, the board did not answer, reset or went away; the
        /// message names the port and the command or cell.
        error: Option<String>,
    },
}

/// Why a command could not be delivered.
#[derive(Debug, thiserror::Error)]
#[error("the measuring thread has stopped; restart actprof to measure again")]
pub struct WorkerGone;

/// The UI's handle on the measuring thread.
pub struct Worker {
    commands: SyncSender<Job>,
    events: Receiver<WorkerEvent>,
    cancel: Arc<AtomicBool>,
    _thread: JoinHandle<()>,
}

impl Worker {
    /// Starts the thread; it first collects the host facts, then waits for commands.
    pub fn spawn(ctx: egui::Context) -> std::io::Result<Self> {
        let (command_tx, command_rx) = sync_channel::<Job>(COMMAND_CAPACITY);
        let (event_tx, event_rx) = sync_channel(EVENT_CAPACITY);
        let cancel = Arc::new(AtomicBool::new(false));
        let worker_cancel = Arc::clone(&cancel);
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || serve(&ctx, &command_rx, &event_tx, &worker_cancel))?;
        Ok(Self {
            commands: command_tx,
            events: event_rx,
            cancel,
            _thread: thread,
        })
    }

    /// Applies a command. Cancelling takes effect at once through the shared flag, since
    /// the worker is busy inside the run and cannot read its queue.
    pub fn send(&self, command: Command) -> Result<(), WorkerGone> {
        let job = match command {
            Command::Start { plan, board } => Job::Kernels { plan, board },
            Command::StartModels(job) => Job::Models(job),
            Command::StartTraining(job) => Job::Training(job),
            Command::Cancel => {
                self.cancel.store(true, Ordering::SeqCst);
                return Ok(());
            }
        };
        self.cancel.store(false, Ordering::SeqCst);
        self.commands.try_send(job).map_err(|_| WorkerGone)
    }

    /// Everything the worker has sent since the last call, oldest first.
    pub fn drain(&self) -> Result<Vec<WorkerEvent>, WorkerGone> {
        let mut events = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(event) => events.push(event),
                Err(TryRecvError::Empty) => return Ok(events),
                Err(TryRecvError::Disconnected) if events.is_empty() => return Err(WorkerGone),
                Err(TryRecvError::Disconnected) => return Ok(events),
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Stop a run in progress; the thread ends when it sees the command channel closed.
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// The worker loop: host facts once, then one run per start command.
fn serve(
    ctx: &egui::Context,
    commands: &Receiver<Job>,
    events: &SyncSender<WorkerEvent>,
    cancel: &AtomicBool,
) {
    let notify = |event: WorkerEvent| {
        let delivered = events.send(event).is_ok();
        ctx.request_repaint_after(REPAINT_DELAY);
        if !delivered {
            // The UI is gone: stop measuring for nobody.
            cancel.store(true, Ordering::SeqCst);
        }
    };

    let host = HostFacts::collect();
    notify(WorkerEvent::Host(Box::new(host.clone())));
    while let Ok(job) = commands.recv() {
        let (plan, board) = match job {
            Job::Kernels { plan, board } => (plan, board),
            Job::Models(job) => {
                tracing::debug!(cells = job.cells.len(), "model run started");
                jobs::run_models(&job, &host, cancel, &notify);
                continue;
            }
            Job::Training(job) => {
                tracing::debug!(activations = job.activations.len(), "training started");
                jobs::run_training(&job, cancel, &notify);
                continue;
            }
        };
        tracing::debug!(cells = plan.cells().len(), "run started");
        if let Some(port) = board {
            let cancelled = run_on_board(&plan, &port, cancel, &notify);
            notify(WorkerEvent::Done { cancelled });
            continue;
        }
        if let Some(spec) = plan.power.clone() {
            let cancelled = run_powered(&plan, &spec, cancel, &notify);
            notify(WorkerEvent::Done { cancelled });
            continue;
        }
        let outcome = run_plan(&plan, cancel, &mut |event| {
            notify(WorkerEvent::Run(Box::new(event)))
        });
        tracing::debug!(
            cells = outcome.results.len(),
            cancelled = outcome.cancelled,
            "run finished"
        );
        notify(WorkerEvent::Done {
            cancelled: outcome.cancelled,
        });
    }
}

/// Runs `plan` on the board behind `port`; returns whether it was cancelled. Whatever
/// happens, the run ends with one [`BoardUpdate::Finished`].
fn run_on_board(
    plan: &Plan,
    port: &PortSpec,
    cancel: &AtomicBool,
    notify: &dyn Fn(WorkerEvent),
) -> bool {
    let stopped = |error: String| {
        notify(WorkerEvent::Board(BoardUpdate::Finished {
            cells: Vec::new(),
            mismatches: 0,
            error: Some(error),
        }));
        false
    };
    let link = match open_port(&port.port, port.baud_or_default()) {
        Ok(link) => link,
        Err(err) => return stopped(format!("cannot reach the board: {}", error_chain(&err))),
    };
    let mut client = match BoardClient::connect(link, &port.port, DEFAULT_LINE_TIMEOUT) {
        Ok(client) => client,
        Err(err) => return stopped(format!("cannot identify the board: {}", error_chain(&err))),
    };
    notify(WorkerEvent::Board(BoardUpdate::Connected {
        port: port.port.clone(),
        info: client.info().clone(),
    }));

    let mut current = None;
    let outcome = run_plan_on_board(&mut client, plan, cancel, &mut |event| {
        if let Event::CellStarted { spec, .. } = &event {
            current = Some(describe(spec));
        }
        notify(WorkerEvent::Run(Box::new(event)));
    });
    let error = outcome.error.as_ref().map(|err| {
        let during = current.map_or_else(String::new, |cell| format!(" during {cell}"));
        format!(
            "the board run stopped{during} after {} finished cell(s): {}",
            outcome.cells.len(),
            error_chain(err)
        )
    });
    tracing::debug!(
        cells = outcome.cells.len(),
        skipped = outcome.skipped.len(),
        cancelled = outcome.cancelled,
        "board run finished"
    );
    notify(WorkerEvent::Board(BoardUpdate::Finished {
        cells: outcome.cells,
        mismatches: outcome.mismatches,
        error,
    }));
    outcome.cancelled
}

/// Runs `plan` with its power source; returns whether it was cancelled. Failures are
/// reported as [`PowerUpdate::Failed`].
fn run_powered(
    plan: &Plan,
    spec: &SourceSpec,
    cancel: &AtomicBool,
    notify: &dyn Fn(WorkerEvent),
) -> bool {
    let failed = |err: &dyn std::fmt::Display| {
        notify(WorkerEvent::Power(PowerUpdate::Failed(err.to_string())));
        false
    };
    let prepared = match PoweredPlan::prepare(plan, spec, DEFAULT_POLL_INTERVAL, DEFAULT_IDLE) {
        Ok(prepared) => prepared,
        Err(err) => return failed(&error_chain(&err)),
    };
    let root = match Journal::sessions_root() {
        Ok(root) => root,
        Err(err) => return failed(&err),
    };
    notify(WorkerEvent::Power(PowerUpdate::Started {
        info: Box::new(prepared.info().clone()),
        idle: prepared.idle(),
        estimated: prepared.estimated_duration(),
    }));
    let command = vec!["actprof (desktop app)".to_owned()];
    let outcome = prepared.run(&root, command, HostFacts::collect(), cancel, &mut |event| {
        notify(match event {
            SessionEvent::Run(event) => WorkerEvent::Run(Box::new(event)),
            SessionEvent::Samples(samples) => WorkerEvent::Power(PowerUpdate::Samples(samples)),
            SessionEvent::Window(window) => WorkerEvent::Power(PowerUpdate::Window(window)),
        });
    });
    match outcome {
        Ok(outcome) => {
            notify(WorkerEvent::Power(PowerUpdate::Energies {
                energies: outcome.energies,
                idle: outcome.idle,
                journal_dir: outcome.journal_dir,
            }));
            outcome.run.cancelled
        }
        Err(err) => failed(&error_chain(&err)),
    }
}

/// An error and its causes on one line, `outer: inner: innermost`. A cause whose message
/// the line already holds (an error that displays its source) is not repeated.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let message = inner.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        cause = inner.source();
    }
    text
}
