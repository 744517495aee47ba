//! The Models and Dying ReLU tabs driven headless with egui_kittest: a model summary, a
//! small model run filling the heatmap and the share bars, a short training with both plots,
//! exports, and Cancel.

#![cfg(feature = "gui")]

use std::time::{Duration, Instant};

use actprof::gui::state::{ModelsSettings, Tab, TrainingSettings};
use actprof::gui::{ActprofApp, UiState};
use actprof::kernels::{Activation, DEFAULT_LEAKY_ALPHA};
use actprof::report;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

/// Longest a test waits for a run to finish.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

const LEAKY: Activation = Activation::LeakyRelu {
    alpha: DEFAULT_LEAKY_ALPHA,
};

fn harness(state: UiState) -> Harness<'static, ActprofApp> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| ActprofApp::with_state(&cc.egui_ctx, state, false, false))
}

/// `mlp-small` × the given activations, a few ms per cell.
fn quick_models(activations: Vec<Activation>, min_time_ms: f64) -> ModelsSettings {
    ModelsSettings {
        models: vec!["mlp-small".to_owned()],
        activations,
        warmup_ms: 1.0,
        min_time_ms,
        min_samples: 3,
        ..ModelsSettings::default()
    }
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

/// Clicks the widget labelled `label` and lets the app apply and then show the result.
fn click(h: &mut Harness<'_, ActprofApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// The text of a node: labels keep it in `value`, other widgets in `label`.
fn text_of(node: &egui_kittest::Node<'_>) -> String {
    let node = node.accesskit_node();
    node.value().or_else(|| node.label()).unwrap_or_default()
}

#[test]
fn the_models_tab_shows_a_models_summary() {
    let mut state = UiState {
        tab: Tab::Models,
        ..UiState::default()
    };
    state.models.summary_model = "kws-dscnn".to_owned();
    let mut h = harness(state);
    h.step();
    // The published DS-CNN figures of the zoo tests: 22,604 parameters with batch norm
    // folded, 2,656,768 MACs (MLTK prints 2.657 M), peak activations 64,000 bytes.
    let totals = text_of(&h.get_by_label_contains("kws-dscnn: input 49×10×1"));
    assert!(totals.contains("22 604 parameters"), "{totals}");
    assert!(totals.contains("2 656 768 MACs"), "{totals}");
    assert!(totals.contains("62.5 KiB"), "{totals}");
    h.get_by_label("dense 64 -> 12");

    h.state_mut().state.models.summary_model = "ic-resnet8".to_owned();
    h.step();
    h.step();
    // ResNet-8: 77,706 parameters folded (78,666 in the Keras count).
    let totals = text_of(&h.get_by_label_contains("ic-resnet8: input 32×32×3"));
    assert!(totals.contains("77 706 parameters"), "{totals}");
    assert!(
        h.query_by_label_contains("tick models and activations on the left")
            .is_some()
    );
    h.check_accessibility();
}

#[test]
fn a_small_model_run_fills_the_heatmap_and_the_share_bars() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = UiState {
        tab: Tab::Models,
        models: quick_models(vec![Activation::Relu, LEAKY], 5.0),
        csv_path: dir.path().join("models.csv").display().to_string(),
        ..UiState::default()
    };
    let mut h = harness(state);
    h.step();
    click(&mut h, "Run");
    assert!(
        h.state().is_busy(),
        "Run on the Models tab starts a model run"
    );
    step_until(&mut h, |app| !app.is_busy());

    let rows = h.state().models.rows.clone();
    assert_eq!(rows.len(), 2, "one row per model × activation");
    assert!(
        h.state().rows.is_empty(),
        "model rows stay out of the kernel views"
    );
    for activation in ["relu", "leaky_relu:alpha=0.01"] {
        let cell =
            text_of(&h.get_by_label_contains(&format!("model cell mlp-small {activation}: ")));
        assert!(
            cell.ends_with(" µs/inference") || cell.ends_with(" ms/inference"),
            "unit in {cell:?}"
        );
        let bar = text_of(&h.get_by_label_contains(&format!("share bar mlp-small {activation}: ")));
        assert!(bar.ends_with(" %"), "percent in {bar:?}");
    }
    assert!(h.query_by_label_contains("Finished 2 cells").is_some());
    h.check_accessibility();

    // Export CSV writes the model rows in the CLI's schema; opening it brings them back.
    click(&mut h, "Export CSV");
    let path = dir.path().join("models.csv");
    let written = report::csv::read_file(&path).expect("a valid report");
    assert_eq!(written, rows);
    assert!(
        written
            .iter()
            .all(|row| row.model.as_deref() == Some("mlp-small"))
    );
    assert!(written.iter().all(|row| row.activation_share.is_some()));
    h.state_mut().models.rows.clear();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.step();
    assert_eq!(
        h.state().models.rows,
        rows,
        "Ctrl+O read the model rows back"
    );
}

#[test]
fn escape_cancels_a_model_run_and_keeps_finished_cells() {
    let state = UiState {
        tab: Tab::Models,
        models: quick_models(Activation::DEFAULT_SET.to_vec(), 200.0),
        ..UiState::default()
    };
    let total = Activation::DEFAULT_SET.len();
    let mut h = harness(state);
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    h.step();
    assert!(
        h.state().models.run.is_some(),
        "Ctrl+R on the Models tab runs the models"
    );
    step_until(&mut h, |app| !app.models.rows.is_empty());

    let asked = Instant::now();
    h.key_press(egui::Key::Escape);
    step_until(&mut h, |app| !app.is_busy());
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "stopped within the cell"
    );
    let kept = h.state().models.rows.len();
    assert!(kept >= 1 && kept < total, "kept {kept} of {total} cells");
    assert!(h.query_by_label_contains("Cancelled after").is_some());
    let filled = h
        .query_all_by_label_contains("model cell mlp-small ")
        .count();
    assert_eq!(filled, kept, "one heatmap cell per finished cell");
}

#[test]
fn a_short_training_plots_loss_and_dead_units_per_activation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = UiState {
        tab: Tab::Training,
        training: TrainingSettings {
            activations: vec![Activation::Relu, LEAKY],
            use_high_lr: false,
            epochs: 3,
            ..TrainingSettings::default()
        },
        epochs_path: dir.path().join("epochs.csv").display().to_string(),
        ..UiState::default()
    };
    let mut h = harness(state);
    h.step();
    click(&mut h, "Run");
    step_until(&mut h, |app| !app.is_busy());

    let runs = &h.state().training.runs;
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter().all(|run| run.records.len() == 4),
        "epochs 0 to 3"
    );
    // Both plots (loss and dead units) have one legend entry per activation.
    for name in ["relu @ lr 0.05", "leaky_relu:alpha=0.01 @ lr 0.05"] {
        assert_eq!(
            h.query_all_by_label(name).count(),
            2,
            "{name} in both legends"
        );
    }
    assert!(
        h.query_by_label_contains("Trained 2 runs, 6 epochs")
            .is_some()
    );
    h.check_accessibility();

    click(&mut h, "Export epochs CSV");
    let rows = report::read_epochs_file(&dir.path().join("epochs.csv")).expect("valid CSV");
    assert_eq!(rows.len(), 8, "2 runs × epochs 0 to 3");
    assert_eq!(rows[4].activation, "leaky_relu");
    assert!(
        h.query_by_label_contains("Exported 8 epochs of 2 runs")
            .is_some()
    );
}

#[test]
fn cancel_stops_a_training_after_the_current_epoch() {
    let state = UiState {
        tab: Tab::Training,
        training: TrainingSettings {
            activations: vec![Activation::Relu],
            use_high_lr: false,
            epochs: 10_000,
            ..TrainingSettings::default()
        },
        ..UiState::default()
    };
    let mut h = harness(state);
    h.step();
    click(&mut h, "Run");
    step_until(&mut h, |app| {
        app.training
            .runs
            .first()
            .is_some_and(|run| run.records.len() > 2)
    });
    click(&mut h, "Cancel");
    step_until(&mut h, |app| !app.is_busy());
    let run = &h.state().training.runs[0];
    assert!(run.cancelled);
    assert!(run.records.len() < 10_001, "stopped early");
    assert!(h.query_by_label_contains("Cancelled after").is_some());
    h.get_by_label("cancelled");
}
