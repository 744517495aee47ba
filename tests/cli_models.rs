//! End-to-end tests of `actprof models` and `actprof train-demo` on the real binary.

use std::process::Command;

/// The built binary, without inherited log settings.
fn actprof() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_actprof"));
    command.env_remove("RUST_LOG");
    command
}

fn run(args: &[&str]) -> std::process::Output {
    actprof().args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

#[test]
fn summary_lists_every_model_with_its_figures() {
    let out = run(&["models", "--summary"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Totals counted from the definitions (see src/models/zoo_tests.rs for the sources).
    for line in [
        "ad-autoencoder: input 640, 265864 parameters, 264192 MACs",
        "kws-dscnn: input 49×10×1, 22604 parameters, 2656768 MACs",
        "ic-resnet8: input 32×32×3, 77706 parameters, 12501632 MACs",
        "mlp-small: input 2, 8642 parameters, 8448 MACs",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in\n{stdout}");
    }
    assert!(stdout.contains("depthwise 3×3"), "{stdout}");
    assert!(
        stdout.contains("add (shortcut conv2d 1×1 /2, 32 filters)"),
        "{stdout}"
    );
}

#[test]
fn a_short_run_writes_model_rows_that_read_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("models.csv");
    let path_text = path.to_str().expect("a UTF-8 path");
    let out = run(&[
        "models",
        "--model",
        "kws-dscnn,mlp-small",
        "--activations",
        "relu,leaky_relu",
        "--batch",
        "2",
        "--min-time",
        "10ms",
        "--warmup",
        "2ms",
        "--min-samples",
        "3",
        "--out",
        path_text,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("model"), "{stdout}");
    assert!(stdout.contains("median µs/inference"), "{stdout}");
    assert!(text(&out.stderr).contains("report written to"));

    let rows = actprof::report::read_file(&path).expect("the report reads back");
    assert_eq!(rows.len(), 4);
    let cells: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.model.clone().unwrap_or_default(), r.activation.clone()))
        .collect();
    let expected = [
        ("kws-dscnn", "relu"),
        ("kws-dscnn", "leaky_relu"),
        ("mlp-small", "relu"),
        ("mlp-small", "leaky_relu"),
    ];
    assert_eq!(cells, expected.map(|(m, a)| (m.to_owned(), a.to_owned())));
    for row in &rows {
        assert_eq!(row.batch, Some(2));
        assert_eq!((row.dtype.as_str(), row.target.as_str()), ("f32", "local"));
        let share = row.activation_share.expect("a share");
        assert!((0.0..=1.0).contains(&share), "{share}");
        assert!(row.median_ns > 0.0 && row.samples >= 3);
    }
    // elements = one input's values × batch: 49·10·2 and 2·2.
    assert_eq!(rows[0].elements, 980);
    assert_eq!(rows[2].elements, 4);
    assert_eq!(rows[1].params, "alpha=0.01");
}

#[test]
fn bad_flags_fail_with_a_clear_message() {
    let cases: [(&[&str], &str); 5] = [
        (&["models", "--model", "vww"], "invalid --model entry `vww`"),
        (
            &["models", "--activations", "elu"],
            "invalid --activations entry `elu`",
        ),
        (&["models", "--batch", "0"], "at least 1"),
        (
            &["models", "--mlp-widths", "5", "--model", "mlp-small"],
            "mlp-small widths",
        ),
        (&["train-demo", "--lr", "NaN"], "not a finite number > 0"),
    ];
    for (args, message) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn train_demo_writes_epochs_for_pandas() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("epochs.csv");
    let out = run(&[
        "train-demo",
        "--activations",
        "relu,leaky_relu",
        "--lr",
        "0.05,0.5",
        "--epochs",
        "3",
        "--points",
        "50",
        "--out",
        path.to_str().expect("a UTF-8 path"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("activation"), "{stdout}");
    // One summary line per activation × learning rate.
    assert_eq!(stdout.lines().count(), 1 + 4, "{stdout}");

    let mut reader = csv::Reader::from_path(&path).expect("the CSV opens");
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "activation",
            "params",
            "lr",
            "epoch",
            "loss",
            "accuracy",
            "dead_fraction",
            "seed"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    // Epochs 0..=3 for each of the four runs.
    assert_eq!(rows.len(), 4 * 4);
    for row in &rows {
        let fraction: f64 = row[6].parse().expect("dead_fraction is a number");
        let accuracy: f64 = row[5].parse().expect("accuracy is a number");
        assert!((0.0..=1.0).contains(&fraction) && (0.0..=1.0).contains(&accuracy));
        assert!(row[4].parse::<f64>().expect("loss is a number").is_finite());
    }
    assert_eq!(&rows[0][0], "relu");
    assert_eq!(&rows[0][2], "0.05");
    assert_eq!(&rows[15][3], "3");
}
