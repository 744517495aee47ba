//! Results of several targets in the desktop app, driven headless with egui_kittest: a
//! report holding this CPU's rows and a QEMU board's, the target picker and its persistence,
//! a board on a port that does not exist, and a run on a scripted board over a real
//! pseudo-terminal beside a local run.

#![cfg(feature = "gui")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actprof::gui::app::Action;
use actprof::gui::dialogs::Purpose;
use actprof::gui::state::{STORAGE_KEY, Tab, TargetChoice, TargetKind};
use actprof::gui::{ActprofApp, UiState};
use actprof::harness::{CellSpec, Plan};
use actprof::kernels::Activation;
use actprof::serial::{Link, open_pty};
use actprof::target::board::TIMING_QEMU;
use actprof::target::board::expected::expected;
use eframe::App as _;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

/// This CPU's rows (relu, sigmoid, tanh, gelu at 1k and 64k) and a QEMU board's (the same
/// activations at 256 and 1k), numbers written by hand.
const TWO_TARGETS_CSV: &str = "tests/fixtures/two_targets.csv";

/// The QEMU board's `target` in the fixture.
const QEMU_BOARD: &str = "board:qemu-mps2-an386 actprof-fw/0.1.0";

/// Longest a test waits for a run to finish.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn harness(state: UiState) -> Harness<'static, ActprofApp> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| ActprofApp::with_state(&cc.egui_ctx, state, false, false))
}

/// Two activations × two sizes, 10 ms per cell.
fn tiny_plan() -> Plan {
    Plan {
        activations: vec![Activation::Relu, Activation::Tanh],
        sizes: vec![1024, 4096],
        threads: 1,
        warmup: Duration::from_millis(5),
        min_time: Duration::from_millis(10),
        min_samples: 5,
        ..Plan::default()
    }
}

fn board_on(port: &str) -> TargetChoice {
    TargetChoice {
        kind: TargetKind::Board,
        port: port.to_owned(),
        baud: None,
    }
}

/// Carries out `action` as the app would after a click, then lets the window settle.
fn apply(h: &mut Harness<'_, ActprofApp>, action: Action) {
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, action);
    h.step();
    h.step();
}

/// Clicks the widget labelled `label` and lets the app apply and then show the result.
fn click(h: &mut Harness<'_, ActprofApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Steps the app until `done` holds, failing after [`RUN_DEADLINE`].
fn step_until(h: &mut Harness<'_, ActprofApp>, done: impl Fn(&ActprofApp) -> bool) {
    let deadline = Instant::now() + RUN_DEADLINE;
    while !done(h.state()) {
        assert!(
            Instant::now() < deadline,
            "the app did not get there within {RUN_DEADLINE:?}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    h.step();
}

fn run_and_wait(h: &mut Harness<'_, ActprofApp>) {
    h.step();
    click(h, "Run");
    let messages = &h.state().messages;
    let started =
        h.state().is_running() || messages.run_notice.is_some() || messages.run_error.is_some();
    assert!(started, "clicking Run starts a run: {messages:?}");
    step_until(h, |app| !app.is_running());
}

/// The text of a node: labels keep it in `value`, other widgets in `label`.
fn text_of(node: &egui_kittest::Node<'_>) -> String {
    let node = node.accesskit_node();
    node.value().or_else(|| node.label()).unwrap_or_default()
}

fn targets_of(app: &ActprofApp) -> Vec<String> {
    app.targets().into_iter().map(str::to_owned).collect()
}

#[test]
fn two_targets_side_by_side_in_heatmap_compare_and_report() {
    let mut h = harness(UiState::default());
    h.step();
    apply(
        &mut h,
        Action::Chosen(Purpose::OpenCsv, Path::new(TWO_TARGETS_CSV).to_owned()),
    );
    assert_eq!(h.state().rows.len(), 16, "{:?}", h.state().messages);
    assert_eq!(targets_of(h.state()), ["local", QEMU_BOARD]);

    // Heatmap: 4 activations × (2 local + 2 board sizes), each cell naming its target.
    assert_eq!(h.query_all_by_label_contains("heatmap cell ").count(), 16);
    h.get_by_label("heatmap cell relu 1k on local: 0.0625 ns/element");
    h.get_by_label("heatmap cell gelu 64k on local: 0.719 ns/element");
    h.get_by_label(&format!(
        "heatmap cell relu 256 on {QEMU_BOARD}: 5.16 ns/element"
    ));
    h.get_by_label(&format!(
        "heatmap cell gelu 1k on {QEMU_BOARD}: 80.2 ns/element"
    ));
    assert!(
        h.query_by_label_contains("heatmap cell relu 64k on board")
            .is_none(),
        "no column for a size the board did not run"
    );
    // The board's header says what its times count; the legend gives each target a scale.
    h.get_by_label(&format!("heatmap target {QEMU_BOARD}: {TIMING_QEMU}"));
    h.get_by_label("heatmap target local: host monotonic clock");
    h.get_by_label_contains("a scale per target");
    h.get_by_label(&format!("{QEMU_BOARD}:"));

    // Compare: a series per activation and target in the key under the chart, with what
    // the board's times count.
    click(&mut h, "Compare");
    for activation in ["relu", "sigmoid", "tanh", "gelu"] {
        h.get_by_label(&format!("{activation} on local"));
        h.get_by_label(&format!("{activation} on {QEMU_BOARD}"));
    }
    h.get_by_label(TIMING_QEMU);
    h.get_by_label_contains("the Log axis shows them all");

    // Report: the target and timing columns.
    click(&mut h, "Report");
    h.get_by_role_and_label(Role::Button, "Target");
    h.get_by_role_and_label(Role::Button, "Timing");
    assert_eq!(h.query_all_by_label(TIMING_QEMU).count(), 8);
    assert_eq!(h.query_all_by_label(QEMU_BOARD).count(), 8);
    assert_eq!(h.query_all_by_label("host monotonic clock").count(), 8);
    assert!(
        h.query_by_label("Median (cycles)").is_none(),
        "QEMU has no cycle counter, so no cycles column"
    );

    for tab in ["Heatmap", "Compare", "Report"] {
        click(&mut h, tab);
        h.check_accessibility();
    }
}

/// An eframe storage in memory, as the app's settings file would hold them.
#[derive(Default)]
struct MemoryStorage(HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

#[test]
fn the_target_picker_switches_and_persists() {
    let mut h = harness(UiState::default());
    h.step();
    assert!(
        h.query_by_label("Serial port").is_none(),
        "This CPU needs no port"
    );
    click(&mut h, "Board on a serial port");
    assert_eq!(h.state().state.target.kind, TargetKind::Board);

    h.get_by_label("Serial port").focus();
    h.step();
    h.get_by_label("Serial port").type_text("/dev/ttyACM7");
    h.step();
    h.get_by_label("Baud").focus();
    h.step();
    h.get_by_label("Baud").type_text("9600");
    h.step();
    h.step();
    assert_eq!(h.state().state.target, {
        let mut board = board_on("/dev/ttyACM7");
        board.baud = Some(9600);
        board
    });

    // A baud rate that is not a number is refused in place; the last good one stays.
    h.get_by_label("Baud").focus();
    h.step();
    h.get_by_label("Baud").type_text("x");
    h.step();
    h.step();
    h.get_by_label_contains("`9600x` is not a baud rate");
    assert_eq!(h.state().state.target.baud, Some(9600));

    // Saved with the other settings, and shown again by the next launch.
    let mut storage = MemoryStorage::default();
    h.state_mut().save(&mut storage);
    let stored: UiState = eframe::get_value(&storage, STORAGE_KEY).expect("state stored");
    assert_eq!(stored.target, h.state().state.target);
    let mut again = harness(stored);
    again.step();
    again.step();
    assert_eq!(text_of(&again.get_by_label("Serial port")), "/dev/ttyACM7");
    assert_eq!(text_of(&again.get_by_label("Baud")), "9600");

    // Back to this CPU: the port is kept for the next switch.
    click(&mut again, "This CPU");
    assert_eq!(again.state().state.target.kind, TargetKind::Local);
    assert_eq!(again.state().state.target.port, "/dev/ttyACM7");
    assert!(again.query_by_label("Serial port").is_none());
}

#[test]
fn a_board_on_a_missing_port_is_an_error_naming_it() {
    let port = "/dev/actprof-test-no-such-port";
    let mut h = harness(UiState {
        plan: tiny_plan(),
        target: board_on(port),
        ..UiState::default()
    });
    h.step();
    apply(
        &mut h,
        Action::Chosen(Purpose::OpenCsv, Path::new(TWO_TARGETS_CSV).to_owned()),
    );
    let rows = h.state().rows.clone();
    run_and_wait(&mut h);

    let error = text_of(&h.get_by_label_contains(port));
    assert!(error.contains("no such serial port"), "{error}");
    assert!(error.starts_with("cannot reach the board"), "{error}");
    assert_eq!(h.state().rows, rows, "the results on display are kept");
    assert!(
        h.query_by_label_contains("Finished").is_none(),
        "a run that never started does not claim to have finished"
    );

    // Power recording on a board is refused before anything runs.
    h.state_mut().state.plan.power = Some("rapl".parse().expect("a power source"));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    h.step();
    h.step();
    assert!(!h.state().is_running());
    h.get_by_label_contains("cannot record power with a board target yet");
}

/// What the scripted board answers `caps` with.
const FAKE_CAPS: &str = "kernels=relu,tanh dtypes=f32 max_elements=8192 max_runs=1000 \
                         max_batch=1000";

/// A board that speaks protocol 1 on the master end of a pty (`docs/board-protocol.md`):
/// `hello` (a 1 MHz timer with a cycle counter), `caps`, and `run` of relu and tanh with
/// the output checksum the host expects. Its ticks are made up (one per 16 relu elements,
/// one per 2 tanh elements, per call). It resets (prints its boot line) when asked to run
/// the cell named by `reset_on`, as `kernel=tanh n=4096`.
struct ScriptedBoard {
    port: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedBoard {
    fn start(reset_on: &'static str) -> ScriptedBoard {
        let (link, hold, port) = open_pty().expect("a pty");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("scripted-board".to_owned())
            .spawn(move || {
                let _hold = hold;
                serve_board(link, &flag, reset_on);
            })
            .expect("thread");
        ScriptedBoard {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for ScriptedBoard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const HELLO: &str = "proto=1 fw=actprof-fw/0.1.0 board=scripted timer_hz=1000000 \
                     timing=hardware cycles=yes";

fn serve_board(mut link: Box<dyn Link>, stop: &AtomicBool, reset_on: &str) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::SeqCst) {
        let n = match link.read_some(&mut buf, Duration::from_millis(50)) {
            Ok(n) => n,
            Err(_) => return,
        };
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim().to_owned();
            let Some((id, rest)) = line.split_once(' ') else {
                continue;
            };
            let answer = match rest.split_whitespace().next() {
                Some("hello") => format!("{id} ok {HELLO}\r\n"),
                Some("caps") => format!("{id} ok {FAKE_CAPS}\r\n"),
                Some("run") if rest.contains(reset_on) => format!("* boot {HELLO}\r\n"),
                Some("run") => run_answer(id, rest),
                _ => format!("{id} err 4 unknown command\r\n"),
            };
            if link.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// The lines answering one `run`: a line per timed run, then the checksum.
fn run_answer(id: &str, request: &str) -> String {
    let field = |key: &str| -> u32 {
        request
            .split_whitespace()
            .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {request:?}"))
    };
    let (activation, elements_per_tick) = if request.contains("kernel=tanh") {
        (Activation::Tanh, 2)
    } else {
        (Activation::Relu, 16)
    };
    let (n, runs, batch, seed) = (field("n"), field("runs"), field("batch"), field("seed"));
    let spec = CellSpec::f32(activation, n as usize, 1);
    let checksum = expected(&spec, seed)
        .expect("f32 has no quantization")
        .checksum;
    let mut text = String::new();
    for k in 0..runs {
        // A tick of jitter on every third run, so the spread is not zero.
        let ticks = batch * (n / elements_per_tick) + u32::from(k % 3 == 0);
        let cycles = ticks * 25;
        text.push_str(&format!("{id} run {k} ticks={ticks} cycles={cycles}\r\n"));
    }
    text.push_str(&format!("{id} ok runs={runs} checksum={checksum:08x}\r\n"));
    text
}

#[test]
fn a_board_run_sits_beside_the_local_rows_and_keeps_its_cells_when_the_board_resets() {
    let board = ScriptedBoard::start("kernel=tanh dtype=f32 n=4096 ");
    let board_target = "board:scripted actprof-fw/0.1.0";
    let mut h = harness(UiState {
        plan: tiny_plan(),
        ..UiState::default()
    });

    // This CPU first.
    run_and_wait(&mut h);
    assert_eq!(h.state().rows.len(), 4);
    assert_eq!(targets_of(h.state()), ["local"]);

    // Then the board: its first three cells finish, then it resets.
    h.state_mut().state.target = board_on(&board.port);
    h.step();
    run_and_wait(&mut h);
    assert_eq!(targets_of(h.state()), ["local", board_target]);
    let on_board: Vec<_> = h
        .state()
        .rows
        .iter()
        .filter(|row| row.target == board_target)
        .cloned()
        .collect();
    let cells: Vec<(&str, u64)> = on_board
        .iter()
        .map(|row| (row.activation.as_str(), row.elements))
        .collect();
    assert_eq!(cells, [("relu", 1024), ("tanh", 1024), ("relu", 4096)]);
    for row in &on_board {
        assert_eq!(row.timing.as_deref(), Some("board timer at 1000000 Hz"));
        assert_eq!(row.kernel_isa, "fw-core scalar");
        // 25 cycles per tick; a tick is 1 µs at 1 MHz.
        let cycles = row.median_cycles_per_call.expect("the board counts cycles");
        assert!(
            (cycles / (row.median_ns / 1e3) - 25.0).abs() < 0.1,
            "{row:?}"
        );
    }
    let error = text_of(&h.get_by_label_contains("reset while running"));
    assert!(error.contains(&board.port), "port named in {error:?}");
    assert!(
        error.contains("run kernel=tanh"),
        "command named in {error:?}"
    );
    assert!(
        error.contains("during tanh f32 4k"),
        "cell named in {error:?}"
    );
    h.get_by_label_contains("Stopped after 3 of 4 cells");
    h.get_by_label_contains(&format!("heatmap cell relu 4k on {board_target}: "));
    h.get_by_label_contains(&format!(
        "heatmap cell tanh 4k on {board_target}: not available"
    ));
    h.state_mut().state.tab = Tab::Report;
    h.step();
    h.step();
    h.get_by_label("Median (cycles)");

    // This CPU again: its rows are replaced, the board's stay.
    let local_before: Vec<_> = h.state().rows[..4].to_vec();
    h.state_mut().state.target.kind = TargetKind::Local;
    h.step();
    run_and_wait(&mut h);
    assert_eq!(h.state().rows.len(), 4 + 3);
    assert_eq!(
        &h.state().rows[..3],
        &on_board[..],
        "the board's rows are kept"
    );
    assert_ne!(
        &h.state().rows[3..],
        &local_before[..],
        "local rows are new"
    );
    assert!(h.state().messages.run_error.is_none());
    h.get_by_label_contains("Finished 4 cells on local");
}
