//! The whole desktop app driven headless with egui_kittest: run a small plan, read the
//! heatmap, compare against a baseline, export and open CSV reports.

#![cfg(feature = "gui")]

use std::path::Path;
use std::time::{Duration, Instant};

use actprof::gui::{ActprofApp, UiState};
use actprof::harness::Plan;
use actprof::kernels::Activation;
use actprof::kernels::int8::DType;
use actprof::report::{self, Row};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

/// Longest a test waits for a run to finish.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

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

fn harness(plan: Plan) -> Harness<'static, ActprofApp> {
    let state = UiState {
        plan,
        ..UiState::default()
    };
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| ActprofApp::with_state(&cc.egui_ctx, state, false, false))
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

fn click_run_and_wait(h: &mut Harness<'_, ActprofApp>) {
    h.step();
    click(h, "Run");
    let started = h.state().is_running() || !h.state().rows.is_empty();
    assert!(started, "clicking Run starts a run");
    step_until(h, |app| !app.is_running());
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

/// Multiplies every time (and divides every rate) of `row` by `factor`.
fn scaled(row: &Row, factor: f64) -> Row {
    let mut row = row.clone();
    for time in [
        &mut row.median_ns,
        &mut row.mean_ns,
        &mut row.stddev_ns,
        &mut row.mad_ns,
        &mut row.min_ns,
        &mut row.p5_ns,
        &mut row.p95_ns,
        &mut row.p99_ns,
        &mut row.ci95_low_ns,
        &mut row.ci95_high_ns,
        &mut row.ns_per_element,
    ] {
        *time *= factor;
    }
    row.gelem_per_s /= factor;
    row
}

fn set_path(h: &mut Harness<'_, ActprofApp>, field: fn(&mut UiState) -> &mut String, path: &Path) {
    *field(&mut h.state_mut().state) = path.display().to_string();
    h.step();
}

#[test]
fn run_heatmap_compare_and_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_plan());
    click_run_and_wait(&mut h);

    // One cell per activation × size, each named in the heatmap.
    let rows = h.state().rows.clone();
    assert_eq!(rows.len(), 4, "2 activations × 2 sizes");
    assert_eq!(h.query_all_by_label_contains("heatmap cell ").count(), 4);
    for activation in ["relu", "tanh"] {
        for size in ["1k", "4k"] {
            let prefix = format!("heatmap cell {activation} {size}: ");
            let cell = h.get_by_label_contains(&prefix);
            let label = text_of(&cell);
            assert!(label.ends_with(" ns/element"), "unit in {label:?}");
        }
    }

    // A baseline 1000× slower for relu and 1000× faster for tanh: by the definition of the
    // verdict (disjoint intervals, change beyond 2%), relu is now faster and tanh slower.
    let baseline: Vec<Row> = rows
        .iter()
        .map(|row| {
            scaled(
                row,
                if row.activation == "relu" {
                    1000.0
                } else {
                    0.001
                },
            )
        })
        .collect();
    let baseline_path = dir.path().join("baseline.csv");
    report::csv::write_file(&baseline_path, &baseline).expect("baseline written");

    click(&mut h, "Compare");
    set_path(&mut h, |state| &mut state.baseline_path, &baseline_path);
    click(&mut h, "Load baseline CSV");
    assert_eq!(
        h.query_all_by_label("faster").count(),
        2,
        "relu at both sizes; rows: {rows:?}"
    );
    assert_eq!(
        h.query_all_by_label("slower").count(),
        2,
        "tanh at both sizes; rows: {rows:?}"
    );
    assert!(h.query_by_label("no change").is_none());

    // Export equals the results.
    click(&mut h, "Report");
    let exported = dir.path().join("export.csv");
    set_path(&mut h, |state| &mut state.csv_path, &exported);
    click(&mut h, "Export CSV");
    let read_back = report::csv::read_file(&exported).expect("export is a valid report");
    assert_eq!(read_back, h.state().rows);
    assert!(h.query_by_label_contains("Exported 4 rows").is_some());

    // Every view draws with these results, and every control in it has a name.
    for tab in ["Heatmap", "Compare", "Functions", "Report"] {
        click(&mut h, tab);
        h.check_accessibility();
    }
}

#[test]
fn invalid_csv_names_row_and_column_and_keeps_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut plan = tiny_plan();
    plan.activations = vec![Activation::Sigmoid];
    let mut h = harness(plan);
    click_run_and_wait(&mut h);
    let rows = h.state().rows.clone();
    assert_eq!(rows.len(), 2);

    // A report whose 2nd data row has a median that is not a number.
    let good = dir.path().join("good.csv");
    report::csv::write_file(&good, &rows).expect("written");
    let text = std::fs::read_to_string(&good).expect("readable");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let column = lines[0]
        .split(',')
        .position(|name| name == "median_ns")
        .expect("column");
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[column] = "fast";
    lines[2] = fields.join(",");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("written");

    click(&mut h, "Report");
    set_path(&mut h, |state| &mut state.csv_path, &bad);
    click(&mut h, "Open CSV");

    let error = h.get_by_label_contains("bad.csv");
    let message = text_of(&error);
    assert!(message.contains("row 2"), "row named in {message:?}");
    assert!(message.contains("median_ns"), "column named in {message:?}");
    assert_eq!(h.state().rows, rows, "results kept");
}

#[test]
fn escape_cancels_and_keeps_finished_cells() {
    let mut plan = tiny_plan();
    plan.activations = Activation::DEFAULT_SET.to_vec();
    plan.sizes = vec![1024, 2048, 4096];
    let total = plan.activations.len() * plan.sizes.len();
    let mut h = harness(plan);
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    h.step();
    assert!(h.state().is_running(), "Ctrl+R starts a run");
    step_until(&mut h, |app| !app.rows.is_empty());

    h.key_press(egui::Key::Escape);
    step_until(&mut h, |app| !app.is_running());
    let kept = h.state().rows.len();
    assert!(kept >= 1 && kept < total, "kept {kept} of {total} cells");
    assert!(h.query_by_label_contains("Cancelled after").is_some());
    let cells = h.query_all_by_label_contains("heatmap cell ").count();
    let empty = h.query_all_by_label_contains("not available").count();
    assert_eq!(
        cells - empty,
        kept,
        "one filled heatmap cell per finished cell"
    );
}

#[test]
fn shortcuts_export_and_open_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut plan = tiny_plan();
    plan.activations = vec![Activation::Relu];
    plan.sizes = vec![1024];
    let mut h = harness(plan);
    click_run_and_wait(&mut h);
    let rows = h.state().rows.clone();
    assert_eq!(rows.len(), 1);

    let path = dir.path().join("shortcut.csv");
    set_path(&mut h, |state| &mut state.csv_path, &path);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.step();
    assert_eq!(
        report::csv::read_file(&path).expect("Ctrl+S wrote a report"),
        rows
    );

    h.state_mut().rows.clear();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.step();
    assert_eq!(h.state().rows, rows, "Ctrl+O read the report back");
}

#[test]
fn profiles_save_load_and_report_errors_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = tiny_plan();
    let mut h = harness(plan.clone());
    h.step();

    let saved = dir.path().join("profiles").join("mine.toml");
    set_path(&mut h, |state| &mut state.profile_path, &saved);
    click(&mut h, "Save profile");
    assert!(saved.exists(), "the profile folder is created");

    h.state_mut().state.plan.threads = 3;
    click(&mut h, "Load profile");
    assert_eq!(
        h.state().state.plan,
        plan,
        "loading gives back the saved plan"
    );

    // Line 2 of this profile is not TOML.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "activations = [\"relu\"]\nsizes = [1k\n").expect("written");
    set_path(&mut h, |state| &mut state.profile_path, &broken);
    click(&mut h, "Load profile");
    let error = h.get_by_label_contains("broken.toml");
    let message = text_of(&error);
    assert!(message.contains(":2:"), "line named in {message:?}");
    assert_eq!(h.state().state.plan, plan, "the plan is kept");
}

#[test]
fn bad_size_is_refused_in_place() {
    let mut h = harness(tiny_plan());
    h.step();
    let field = h.get_by_label("Sizes (elements; k = 1024, M = 1024²)");
    field.focus();
    h.step();
    h.get_by_label("Sizes (elements; k = 1024, M = 1024²)")
        .type_text(", lots");
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("`lots`").is_some(),
        "error names the entry"
    );
    assert_eq!(h.state().state.plan.sizes, [1024, 4096], "plan unchanged");
}

#[test]
fn metric_choice_changes_the_heatmap_unit() {
    let mut plan = tiny_plan();
    plan.activations = vec![Activation::Relu, Activation::Sigmoid];
    plan.sizes = vec![1024];
    let mut h = harness(plan);
    click_run_and_wait(&mut h);

    h.state_mut().state.metric = actprof::gui::model::Metric::SlowdownVsRelu;
    h.step();
    h.step();
    // ReLU divided by itself is 1 by definition.
    let relu = text_of(&h.get_by_label_contains("heatmap cell relu 1k: "));
    assert!(relu.ends_with(": 1.00 × ReLU"), "{relu:?}");
    let sigmoid = text_of(&h.get_by_label_contains("heatmap cell sigmoid 1k: "));
    assert!(sigmoid.ends_with(" × ReLU"), "{sigmoid:?}");
}

#[test]
fn heatmap_exports_as_svg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(tiny_plan());
    click_run_and_wait(&mut h);

    let path = dir.path().join("heatmap.svg");
    set_path(&mut h, |state| &mut state.svg_path, &path);
    click(&mut h, "Export SVG");
    let svg = std::fs::read_to_string(&path).expect("SVG written");
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    for activation in ["relu", "tanh"] {
        assert!(
            svg.contains(&format!(">{activation}</text>")),
            "{activation} row"
        );
    }
    assert!(svg.contains(">1k</text>") && svg.contains(">4k</text>"));
    assert!(svg.contains("ns/element"), "unit in the legend");
}

#[test]
fn int8_run_has_a_heatmap_cell_per_activation_size_and_dtype() {
    let plan = Plan {
        dtypes: vec![DType::F32, DType::I8],
        ..tiny_plan()
    };
    let mut h = harness(plan);
    // The plan panel offers every dtype, ticked as planned.
    for dtype in ["f32", "i8", "u8"] {
        h.get_by_label(dtype);
    }
    click_run_and_wait(&mut h);

    let rows = h.state().rows.clone();
    assert_eq!(rows.len(), 8, "2 activations × 2 sizes × 2 dtypes");
    assert_eq!(h.query_all_by_label_contains("heatmap cell ").count(), 8);
    for activation in ["relu", "tanh", "relu (i8)", "tanh (i8)"] {
        for size in ["1k", "4k"] {
            h.get_by_label_contains(&format!("heatmap cell {activation} {size}: "));
        }
    }

    // The LSB metric has values for the int8 cells only: the table and max kernels are
    // exact, so each shows 0 LSB, and the f32 cells are not available.
    h.state_mut().state.metric = actprof::gui::model::Metric::MaxLsbError;
    h.step();
    h.step();
    let lsb = text_of(&h.get_by_label_contains("heatmap cell tanh (i8) 4k: "));
    assert!(lsb.ends_with(": 0 LSB"), "{lsb}");
    let f32 = text_of(&h.get_by_label_contains("heatmap cell tanh 4k: "));
    assert!(f32.ends_with("not available"), "{f32}");

    // Unticking i8 in the plan panel removes it from the next run's plan.
    click(&mut h, "i8");
    assert_eq!(h.state().state.plan.dtypes, [DType::F32]);
}
