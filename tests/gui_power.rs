//! The Power tab driven headless with egui_kittest: synthetic samples fed into the app
//! state, a session journal reopened after an unclean exit, and the no-source message.

#![cfg(feature = "gui")]

use actprof::gui::{ActprofApp, UiState};
use actprof::harness::{HostFacts, Plan};
use actprof::power::{PowerSample, Quantity, Resolution, SourceInfo};
use actprof::session::{Journal, RunWindow, SessionMeta};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

fn harness() -> Harness<'static, ActprofApp> {
    let state = UiState {
        plan: Plan::default(),
        ..UiState::default()
    };
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| ActprofApp::with_state(&cc.egui_ctx, state, false, false))
}

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

/// 10 Hz for 10 s: 4 W idle, 9 W from 3 s on.
fn synthetic_samples() -> Vec<PowerSample> {
    (0..=100)
        .map(|k| {
            let t_s = f64::from(k) / 10.0;
            PowerSample::power(t_s, if t_s < 3.0 { 4.0 } else { 9.0 })
        })
        .collect()
}

fn windows() -> Vec<RunWindow> {
    vec![
        RunWindow {
            label: "idle".into(),
            start_s: 0.0,
            end_s: 2.5,
            calls: 0,
            elements: 0,
        },
        RunWindow {
            label: "gelu f32 ×4096".into(),
            start_s: 4.0,
            end_s: 9.0,
            calls: 5000,
            elements: 5000 * 4096,
        },
    ]
}

fn all_text(h: &Harness<'_, ActprofApp>) -> String {
    h.query_all_by(|_| true)
        .map(|node| {
            let node = node.accesskit_node();
            node.value().or_else(|| node.label()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn without_a_source_the_tab_says_so_and_how_to_set_one() {
    let mut h = harness();
    h.step();
    h.get_by_label("Power").click();
    h.step();
    h.step();
    h.get_by_label("No power source is set");
    let text = all_text(&h);
    assert!(text.contains("power = \"rapl\""), "{text}");
}

#[test]
fn run_windows_are_labelled_and_selection_stats_follow_the_definition() {
    let mut h = harness();
    h.step();
    {
        let app = h.state_mut();
        app.power.start_run(synthetic_info());
        app.power.push_samples(&synthetic_samples());
        app.power.windows = windows();
        app.power.selection = Some((4.0, 9.0));
    }
    h.get_by_label("Power").click();
    h.step();
    h.step();
    h.get_by_label("gelu f32 ×4096");
    h.get_by_label("idle");

    // Inside [4 s, 9 s] the power is a constant 9 W over 51 samples: mean, min, max and
    // median are 9 W and the energy is 9 W × 5 s = 45 J.
    let text = all_text(&h);
    assert!(text.contains("duration 5.000 s, 51 samples"), "{text}");
    assert!(
        text.contains("mean 9.000 W, min 9.000 W, max 9.000 W, median 9.000 W"),
        "{text}"
    );
    assert!(text.contains("energy 45.0000 J"), "{text}");

    // With a 4 W tare: 45 J − 4 W × 5 s = 25 J.
    {
        let app = h.state_mut();
        app.power.tare_on = true;
        app.power.tare_w = 4.0;
    }
    h.step();
    h.step();
    let text = all_text(&h);
    assert!(text.contains("energy 25.0000 J above 4.000 W"), "{text}");
}

#[test]
fn an_unclean_session_is_offered_and_reopens_in_the_power_tab() {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("2026-12-03T20-00-00.000Z");
    let meta = SessionMeta {
        command: vec!["actprof bench".into()],
        plan: None,
        host: HostFacts::default(),
        sources: vec![synthetic_info()],
        actprof_version: "0.1.0".into(),
        started_at: "2026-12-03T20:00:00.000Z".into(),
        ended_at: None,
        gaps: Vec::new(),
    };
    let mut journal = Journal::create(&dir, meta).expect("journal");
    journal
        .append_samples(&synthetic_samples())
        .expect("samples");
    for window in windows() {
        journal.append_window(&window).expect("window");
    }
    journal.flush().expect("flushed");
    // Dropped without `finish`, as a killed run leaves it.
    drop(journal);

    let mut h = harness();
    h.state_mut().recovery = actprof::gui::recovery::last_unclean_session(root.path());
    h.step();
    h.get_by_label("Open last session").click();
    h.step();
    h.step();
    assert!(h.state().recovery.is_none(), "the notice is gone once used");
    assert_eq!(h.state().power.samples.len(), 101);
    h.get_by_label("gelu f32 ×4096");
    let text = all_text(&h);
    assert!(text.contains("2026-12-03T20-00-00.000Z"), "{text}");
}

#[test]
fn an_emulated_source_is_labelled_emulated_in_the_power_tab() {
    let mut h = harness();
    h.step();
    {
        let app = h.state_mut();
        let mut info = synthetic_info();
        info.description = format!(
            "{} RDTech UM25C on /dev/pts/4",
            actprof::power::EMULATED_PREFIX
        );
        app.power.start_run(info);
        app.power.push_samples(&synthetic_samples());
    }
    h.get_by_label("Power").click();
    h.step();
    h.step();
    let text = all_text(&h);
    assert!(
        text.contains("This run: EMULATED RDTech UM25C on /dev/pts/4"),
        "{text}"
    );
    assert!(text.contains("not from a real meter"), "{text}");
    assert!(
        text.contains("is EMULATED (actprof emulate), not a real meter"),
        "{text}"
    );

    // A real source gets no such line.
    h.state_mut().power.start_run(synthetic_info());
    h.state_mut().power.push_samples(&synthetic_samples());
    h.step();
    h.step();
    assert!(!all_text(&h).contains("not from a real meter"));
    assert!(!all_text(&h).contains("EMULATED"));
}
