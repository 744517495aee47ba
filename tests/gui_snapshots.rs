//! Image snapshots of the main views: the whole window, rendered headless by egui_kittest
//! through wgpu (Mesa llvmpipe or lavapipe, no display), compared with the PNGs in
//! `tests/snapshots/`.
//!
//! Everything on screen is fixed: results and baseline come from the CSV fixtures (a made-up
//! "Fixture CPU" and QEMU board, not measurements), the host facts in the status bar are a
//! fixture too, the power trace is synthetic, the window size and the theme are set here.
//! Nothing is timed.
//!
//! Run with `cargo test --features snapshot --test gui_snapshots`; after a deliberate change
//! of the UI, `UPDATE_SNAPSHOTS=1` rewrites the PNGs (review them before committing).

#![cfg(feature = "snapshot")]

use std::path::Path;
use std::time::{Duration, Instant};

use actprof::gui::app::Action;
use actprof::gui::dialogs::Purpose;
use actprof::gui::state::{Tab, TargetChoice, TargetKind, ThemeChoice};
use actprof::gui::{ActprofApp, UiState};
use actprof::harness::{HostFacts, Plan};
use actprof::kernels::Activation;
use actprof::power::{PowerSample, Quantity, Resolution, SourceInfo};
use actprof::session::RunWindow;
use actprof::session::energy::{Attribution, IdleBaseline, window_energy};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

/// The window size `actprof gui` opens with.
const WINDOW: egui::Vec2 = egui::vec2(1360.0, 860.0);

/// Results and the baseline they are compared with, relative to the crate root (the working
/// directory of tests), so the paths shown in the window are the same on every machine.
const RUN_CSV: &str = "tests/fixtures/snapshot_run.csv";
const BASELINE_CSV: &str = "tests/fixtures/snapshot_baseline.csv";

/// This CPU's rows and a QEMU board's, written by hand.
const TWO_TARGETS_CSV: &str = "tests/fixtures/two_targets.csv";

/// Longest wait for the worker's first message.
const HOST_DEADLINE: Duration = Duration::from_secs(30);

/// The plan of the fixture results: six activations × three sizes.
fn plan() -> Plan {
    Plan {
        activations: [
            "relu",
            "leaky_relu:alpha=0.2",
            "sigmoid",
            "tanh",
            "gelu",
            "silu",
        ]
        .map(|spec| spec.parse::<Activation>().expect("a valid activation"))
        .to_vec(),
        sizes: vec![1024, 65_536, 1 << 20],
        ..Plan::default()
    }
}

/// Facts of a made-up machine, shown in the status bar instead of this one's.
fn fixture_host() -> HostFacts {
    HostFacts {
        cpu_model: "Fixture CPU".into(),
        physical_cores: Some(4),
        logical_cores: 8,
        os: "Linux".into(),
        kernel: "6.1.0".into(),
        memory_bytes: 16 << 30,
        governor: Some("performance".into()),
        virtualization: None,
        actprof_version: "0.1.0".into(),
        kernel_isa: "avx512".into(),
        quant_isa: "avx512vbmi".into(),
        ..HostFacts::default()
    }
}

/// The app at the window size in `theme`, on `tab`, with the fixture plan and host.
fn harness(tab: Tab, theme: egui::Theme) -> Harness<'static, ActprofApp> {
    let state = UiState {
        plan: plan(),
        tab,
        theme: match theme {
            egui::Theme::Light => ThemeChoice::Light,
            egui::Theme::Dark => ThemeChoice::Dark,
        },
        ..UiState::default()
    };
    let mut h = Harness::builder()
        .with_size(WINDOW)
        .with_pixels_per_point(1.0)
        .with_theme(theme)
        .build_eframe(move |cc| ActprofApp::with_state(&cc.egui_ctx, state, false, false));
    // The worker sends this machine's facts once; replace them when they have arrived, so
    // they never land after the fixture.
    let deadline = Instant::now() + HOST_DEADLINE;
    while h.state().host.is_none() {
        assert!(
            Instant::now() < deadline,
            "no host facts within {HOST_DEADLINE:?}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.state_mut().host = Some(fixture_host());
    h
}

/// Carries out `action` as the app would after a click, then lets the window settle.
fn apply(h: &mut Harness<'_, ActprofApp>, action: Action) {
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, action);
    h.run();
}

fn open_results(h: &mut Harness<'_, ActprofApp>) {
    let path = Path::new(RUN_CSV).to_owned();
    apply(h, Action::Chosen(Purpose::OpenCsv, path));
    assert_eq!(h.state().rows.len(), 18, "{:?}", h.state().messages);
}

#[test]
fn heatmap() {
    let mut h = harness(Tab::Heatmap, egui::Theme::Light);
    open_results(&mut h);
    h.get_by_label("heatmap cell gelu 1M: 0.750 ns/element");
    h.snapshot("heatmap");
}

/// This CPU's rows beside a QEMU board's, the board picked as the target in the plan panel.
#[test]
fn heatmap_with_two_targets() {
    let mut h = harness(Tab::Heatmap, egui::Theme::Light);
    h.state_mut().state.target = TargetChoice {
        kind: TargetKind::Board,
        port: "/dev/ttyACM0".into(),
        baud: None,
    };
    apply(
        &mut h,
        Action::Chosen(Purpose::OpenCsv, Path::new(TWO_TARGETS_CSV).to_owned()),
    );
    assert_eq!(h.state().rows.len(), 16, "{:?}", h.state().messages);
    h.get_by_label_contains("heatmap cell gelu 1k on board:qemu-mps2-an386 actprof-fw/0.1.0: ");
    h.snapshot("heatmap_two_targets");
}

#[test]
fn compare_with_two_targets() {
    let mut h = harness(Tab::Compare, egui::Theme::Light);
    h.state_mut().state.axis = actprof::gui::model::AxisScale::Log;
    apply(
        &mut h,
        Action::Chosen(Purpose::OpenCsv, Path::new(TWO_TARGETS_CSV).to_owned()),
    );
    h.snapshot("compare_two_targets");
}

#[test]
fn compare_with_a_baseline() {
    let mut h = harness(Tab::Compare, egui::Theme::Light);
    open_results(&mut h);
    apply(
        &mut h,
        Action::Chosen(Purpose::LoadBaseline, Path::new(BASELINE_CSV).to_owned()),
    );
    h.get_by_label_contains("4 faster, 1 slower, 12 no change");
    h.snapshot("compare");
}

#[test]
fn compare_with_a_baseline_dark() {
    let mut h = harness(Tab::Compare, egui::Theme::Dark);
    open_results(&mut h);
    apply(
        &mut h,
        Action::Chosen(Purpose::LoadBaseline, Path::new(BASELINE_CSV).to_owned()),
    );
    h.get_by_label_contains("4 faster, 1 slower, 12 no change");
    h.snapshot("compare_dark");
}

#[test]
fn functions() {
    // The error plot shows the dispatched f32 kernels, and each instruction set rounds
    // differently (the AVX-512 path has kernels of its own), so the snapshot holds only on
    // the path it was recorded with.
    let isa = actprof::kernels::dispatched_isa();
    assert_eq!(
        isa,
        actprof::kernels::Isa::Avx512,
        "the Functions snapshot was recorded with the AVX-512 kernels; this CPU runs {isa:?}"
    );
    let mut h = harness(Tab::Functions, egui::Theme::Light);
    h.run();
    h.snapshot("functions");
}

#[test]
fn report() {
    let mut h = harness(Tab::Report, egui::Theme::Light);
    open_results(&mut h);
    h.get_by_label_contains("Opened 18 rows from");
    h.snapshot("report");
}

/// A synthetic 10 Hz power source (not a measurement).
fn synthetic_info() -> SourceInfo {
    SourceInfo {
        spec: "synthetic".into(),
        description: "synthetic test samples (not a measurement)".into(),
        quantity: Quantity::Power,
        rate_hz: 10.0,
        resolution: Resolution::PowerW(0.001),
        coarse: false,
        clock_offset_s: None,
    }
}

/// 12 s at 10 Hz: 4 W idle, 9 W while gelu runs (3–7 s), 7 W while relu runs (7.5–11 s),
/// each with a fixed ±0.2 W ripple so the line is not flat.
fn synthetic_samples() -> Vec<PowerSample> {
    (0..=120)
        .map(|k| {
            let t_s = f64::from(k) / 10.0;
            let level = match t_s {
                t if (3.0..7.0).contains(&t) => 9.0,
                t if (7.5..11.0).contains(&t) => 7.0,
                _ => 4.0,
            };
            let ripple = 0.2 * (f64::from(k) * 0.9).sin();
            PowerSample::power(t_s, level + ripple)
        })
        .collect()
}

fn windows() -> Vec<RunWindow> {
    let window = |label: &str, start_s, end_s, calls: u64, elements_per_call: u64| RunWindow {
        label: label.into(),
        start_s,
        end_s,
        calls,
        elements: calls * elements_per_call,
    };
    vec![
        window("idle", 0.0, 2.5, 0, 0),
        window("gelu f32 ×65536", 3.0, 7.0, 85_000, 65_536),
        window("relu f32 ×65536", 7.5, 11.0, 1_100_000, 65_536),
    ]
}

#[test]
fn power_with_a_synthetic_trace() {
    let mut h = harness(Tab::Power, egui::Theme::Light);
    let samples = synthetic_samples();
    let idle = window_energy(
        &samples,
        Quantity::Power,
        0.0,
        2.5,
        &Attribution::for_rate(10.0),
    )
    .expect("the idle window has samples");
    {
        let trace = &mut h.state_mut().power;
        trace.start_run(synthetic_info());
        trace.push_samples(&samples);
        trace.windows = windows();
        trace.idle = Some(IdleBaseline::from_window(&idle));
        trace.selection = Some((3.0, 7.0));
    }
    h.run();
    h.get_by_label("gelu f32 ×65536");
    h.snapshot("power");
}
