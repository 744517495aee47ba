//! The engine against a fake board: bytes in from a queue, answers collected as text.

use std::collections::VecDeque;

use super::*;
use crate::quant::{QDType, Quant};

const CAPACITY: usize = 4096;

/// An in-memory board: a byte queue in, a byte vector out, a timer that advances by a fixed
/// step on every read, and a record of marker edges.
struct FakeBoard {
    rx: VecDeque<u8>,
    tx: Vec<u8>,
    ticks: u32,
    tick_step: u32,
    cycles: Option<u32>,
    markers: Vec<bool>,
    exited: bool,
}

impl FakeBoard {
    fn new() -> Self {
        FakeBoard {
            rx: VecDeque::new(),
            tx: Vec::new(),
            // Near the wrap, so differences must be taken modulo 2^32.
            ticks: u32::MAX - 100,
            tick_step: 7,
            cycles: None,
            markers: Vec::new(),
            exited: false,
        }
    }

    /// The answer lines so far, each checked to end with `\r\n` and to fit a line.
    fn take_lines(&mut self) -> Vec<String> {
        let text = String::from_utf8(std::mem::take(&mut self.tx)).expect("ASCII answers");
        assert!(text.is_empty() || text.ends_with("\r\n"), "{text:?}");
        text.split_terminator("\r\n")
            .map(|line| {
                assert!(line.len() + 2 <= crate::MAX_LINE, "{line}");
                assert!(line.bytes().all(|b| (0x20..=0x7E).contains(&b)), "{line:?}");
                line.to_string()
            })
            .collect()
    }
}

impl Board for FakeBoard {
    fn read_byte(&mut self) -> Option<u8> {
        self.rx.pop_front()
    }

    fn write_byte(&mut self, byte: u8) {
        self.tx.push(byte);
    }

    fn now_ticks(&mut self) -> u32 {
        self.ticks = self.ticks.wrapping_add(self.tick_step);
        self.ticks
    }

    fn ticks_per_sec(&self) -> u32 {
        1_000_000
    }

    fn cycles(&mut self) -> Option<u32> {
        self.cycles = self.cycles.map(|c| c.wrapping_add(3));
        self.cycles
    }

    fn marker(&mut self, high: bool) {
        self.markers.push(high);
    }

    fn name(&self) -> &'static str {
        "fake"
    }

    fn emulated(&self) -> bool {
        false
    }

    fn command(&mut self, id: u32, line: &str) -> bool {
        if line != "exit" {
            return false;
        }
        self.exited = true;
        say(self, format_args!("{id} ok"));
        true
    }
}

/// Sends `input` and returns the answer lines.
fn exchange(app: &mut App<CAPACITY>, board: &mut FakeBoard, input: &[u8]) -> Vec<String> {
    board.rx.extend(input);
    app.poll(board);
    board.take_lines()
}

fn setup() -> (Box<App<CAPACITY>>, FakeBoard) {
    (Box::new(App::new()), FakeBoard::new())
}

#[test]
fn boot_hello_caps_and_ping() {
    let (mut app, mut board) = setup();
    app.boot(&mut board);
    let identity = format!(
        "proto=1 fw=actprof-fw/{FW_VERSION} board=fake timer_hz=1000000 timing=hardware \
         cycles=no"
    );
    assert_eq!(board.take_lines(), [format!("* boot {identity}")]);
    let lines = exchange(&mut app, &mut board, b"1 hello\n2 caps\n4294967295 ping\n");
    assert_eq!(
        lines,
        [
            format!("1 ok {identity}"),
            "2 ok kernels=relu,leaky_relu,sigmoid,tanh,gelu,gelu_tanh,swish dtypes=f32,i8,u8 \
             max_elements=4096 max_runs=10000 max_batch=10000"
                .to_string(),
            "4294967295 ok".to_string(),
        ]
    );
}

#[test]
fn hello_says_cycles_yes_when_the_counter_works() {
    let (mut app, mut board) = setup();
    board.cycles = Some(0);
    let lines = exchange(&mut app, &mut board, b"7 hello\n");
    assert!(lines[0].ends_with(" cycles=yes"), "{lines:?}");
}

/// The checksum the host computes for the same request, from the public API.
fn expected_checksum(kernel: Kernel, dtype: &str, n: usize, seed: u32, q: &Quant) -> u32 {
    let p = kernel.default_param();
    match QDType::from_name(dtype) {
        Some(qd) => {
            let mut input = vec![0; n];
            r#gen::fill_bytes(seed, &mut input);
            let table = quant::build_table(kernel, p, qd, q);
            let mut output = vec![0; n];
            quant::apply_table(&table, &input, &mut output);
            checksum::fnv1a32(&output)
        }
        None => {
            let mut input = vec![0.0; n];
            r#gen::fill_f32(seed, &mut input);
            let output: Vec<f32> = input.iter().map(|&x| kernels::eval(kernel, p, x)).collect();
            checksum::of_f32(&output)
        }
    }
}

#[test]
fn every_kernel_and_dtype_runs_and_checksums_like_the_host() {
    let (mut app, mut board) = setup();
    let mut id = 0;
    for kernel in Kernel::ALL {
        for dtype in ["f32", "i8", "u8"] {
            id += 1;
            let zp_base = if dtype == "u8" { 128 } else { 0 };
            let q = Quant {
                in_scale: 1.0 / 16.0,
                in_zp: zp_base,
                out_scale: 1.0 / 30.0,
                out_zp: zp_base - 100,
            };
            let quant_keys = if dtype == "f32" {
                String::new()
            } else {
                format!(
                    " in_scale={:08x} in_zp={} out_scale={:08x} out_zp={}",
                    q.in_scale.to_bits(),
                    q.in_zp,
                    q.out_scale.to_bits(),
                    q.out_zp
                )
            };
            let request = format!(
                "{id} run kernel={} dtype={dtype} n=1000 runs=3 warmup=2 batch=4 seed={id}\
                 {quant_keys}\n",
                kernel.name()
            );
            let lines = exchange(&mut app, &mut board, request.as_bytes());
            let expected = expected_checksum(kernel, dtype, 1000, id, &q);
            // Two reads to see a tick, then the two timed reads, 7 ticks apart.
            assert_eq!(
                lines,
                [
                    format!("{id} run 0 ticks=7"),
                    format!("{id} run 1 ticks=7"),
                    format!("{id} run 2 ticks=7"),
                    format!("{id} ok runs=3 checksum={expected:08x}"),
                ],
                "{request}"
            );
        }
    }
    assert_eq!(board.markers.len(), 2 * 3 * 21);
    // 4 timer reads per run (2 to wait for a tick, 2 timed).
    assert_eq!(board.ticks, (u32::MAX - 100).wrapping_add(7 * 4 * 3 * 21));
    assert!(board.markers.chunks(2).all(|pair| pair == [true, false]));
}

#[test]
fn cycles_appear_on_run_lines_and_p_is_read_as_bits() {
    let (mut app, mut board) = setup();
    board.cycles = Some(u32::MAX);
    let lines = exchange(
        &mut app,
        &mut board,
        b"3 run kernel=swish dtype=f32 n=10 runs=1 warmup=0 batch=1 seed=0 p=3fc00000\n",
    );
    let mut input = [0.0; 10];
    r#gen::fill_f32(0, &mut input);
    let output: Vec<f32> = input
        .iter()
        .map(|&x| kernels::eval(Kernel::Swish, 1.5, x))
        .collect();
    assert_eq!(
        lines,
        [
            "3 run 0 ticks=7 cycles=3".to_string(),
            format!("3 ok runs=1 checksum={:08x}", checksum::of_f32(&output)),
        ]
    );
}

#[test]
fn leaky_relu_default_alpha_is_0_01() {
    let (mut app, mut board) = setup();
    let base = "kernel=leaky_relu dtype=f32 n=64 runs=1 warmup=0 batch=1 seed=9";
    let implicit = exchange(&mut app, &mut board, format!("1 run {base}\n").as_bytes());
    let explicit = exchange(
        &mut app,
        &mut board,
        format!("1 run {base} p=3c23d70a\n").as_bytes(),
    );
    assert_eq!(implicit, explicit);
}

fn error_of(request: &str) -> String {
    let (mut app, mut board) = setup();
    let lines = exchange(&mut app, &mut board, format!("{request}\n").as_bytes());
    assert_eq!(lines.len(), 1, "{request}: {lines:?}");
    lines[0].clone()
}

fn assert_error(request: &str, id: u32, code: u8) {
    let line = error_of(request);
    let prefix = format!("{id} err {code} ");
    assert!(line.starts_with(&prefix), "{request}: {line}");
}

const GOOD: &str = "kernel=tanh dtype=f32 n=16 runs=1 warmup=0 batch=1 seed=1";
const QUANT: &str = "in_scale=3d800000 in_zp=0 out_scale=3c000000 out_zp=0";

#[test]
fn every_error_code() {
    assert_eq!(error_of("x ping"), "0 err 3 bad-id");
    assert_error("0 ping", 0, 3);
    assert_error("01 ping", 0, 3);
    assert_error("+1 ping", 0, 3);
    assert_error("4294967296 ping", 0, 3);
    assert_eq!(
        error_of("5 dance"),
        "5 err 4 unknown-command: no command dance"
    );
    assert_error("5", 5, 4);
    assert_error(
        "6 run kernel=elu dtype=f32 n=16 runs=1 warmup=0 batch=1 seed=1",
        6,
        5,
    );
    assert_error(
        "6 run kernel=tanh dtype=f16 n=16 runs=1 warmup=0 batch=1 seed=1",
        6,
        6,
    );
    assert_error(
        "7 run kernel=tanh dtype=f32 n=4097 runs=1 warmup=0 batch=1 seed=1",
        7,
        7,
    );
    assert_error(
        "7 run kernel=tanh dtype=f32 n=16 runs=10001 warmup=0 batch=1 seed=1",
        7,
        7,
    );
    assert_error(
        "7 run kernel=tanh dtype=f32 n=16 runs=1 warmup=1001 batch=1 seed=1",
        7,
        7,
    );
    assert_error(
        "7 run kernel=tanh dtype=f32 n=16 runs=1 warmup=0 batch=10001 seed=1",
        7,
        7,
    );
    let bad_arguments = [
        "run kernel=tanh dtype=f32 n=16 runs=1 warmup=0 batch=1".to_string(),
        format!("run {GOOD} colour=red"),
        format!("run {GOOD} seed=2"),
        format!("run {GOOD} p"),
        format!("run {GOOD} p=0.5"),
        format!("run {GOOD} p=3f80000"),
        format!("run {GOOD} {QUANT}"),
        "run kernel=tanh dtype=f32 n=0 runs=1 warmup=0 batch=1 seed=1".to_string(),
        "run kernel=tanh dtype=f32 n=16 runs=0 warmup=0 batch=1 seed=1".to_string(),
        "run kernel=tanh dtype=f32 n=16 runs=1 warmup=0 batch=0 seed=1".to_string(),
        "run kernel=tanh dtype=f32 n=-1 runs=1 warmup=0 batch=1 seed=1".to_string(),
        "run kernel=tanh dtype=f32 n=16 runs=1 warmup=0 batch=1 seed=4294967296".to_string(),
        "run kernel=tanh dtype=i8 n=16 runs=1 warmup=0 batch=1 seed=1".to_string(),
        "run kernel=tanh dtype=i8 n=16 runs=1 warmup=0 batch=1 seed=1 in_scale=3d800000 \
         in_zp=0 out_scale=3c000000"
            .to_string(),
        "run kernel=tanh dtype=i8 n=16 runs=1 warmup=0 batch=1 seed=1 in_scale=00000000 \
         in_zp=0 out_scale=3c000000 out_zp=0"
            .to_string(),
        "run kernel=tanh dtype=u8 n=16 runs=1 warmup=0 batch=1 seed=1 in_scale=3d800000 \
         in_zp=-1 out_scale=3c000000 out_zp=0"
            .to_string(),
        "run kernel=tanh dtype=i8 n=16 runs=1 warmup=0 batch=1 seed=1 in_scale=7f800000 \
         in_zp=0 out_scale=3c000000 out_zp=128"
            .to_string(),
        "hello there".to_string(),
    ];
    for request in bad_arguments {
        assert_error(&format!("8 {request}"), 8, 8);
    }
    assert_eq!(
        error_of("8 run kernel=tanh"),
        "8 err 8 bad-argument: missing key dtype"
    );
}

#[test]
fn quantized_zero_points_take_their_dtype_range() {
    let (mut app, mut board) = setup();
    let request = "1 run kernel=sigmoid dtype=i8 n=8 runs=1 warmup=0 batch=1 seed=1 \
                   in_scale=3d800000 in_zp=-128 out_scale=3b800000 out_zp=-128\n";
    let lines = exchange(&mut app, &mut board, request.as_bytes());
    assert!(lines[1].starts_with("1 ok runs=1 checksum="), "{lines:?}");
}

#[test]
fn an_over_long_line_is_dropped_and_the_next_one_answered() {
    let (mut app, mut board) = setup();
    // 255 bytes before the `\n` are allowed, 256 are not.
    let longest = format!("1 ping{}", " ".repeat(255 - 6));
    assert_eq!(
        exchange(&mut app, &mut board, format!("{longest}\n").as_bytes()),
        ["1 ok"]
    );
    let too_long = format!("2 ping{}", " ".repeat(256 - 6));
    assert_eq!(
        exchange(&mut app, &mut board, format!("{too_long}\n").as_bytes()),
        ["0 err 1 line-too-long"]
    );
    let very_long = "9".repeat(5000);
    let lines = exchange(
        &mut app,
        &mut board,
        format!("{very_long}\n3 ping\n").as_bytes(),
    );
    assert_eq!(lines, ["0 err 1 line-too-long", "3 ok"]);
    // The `\r` of a `\r\n` does not count against the limit.
    assert_eq!(
        exchange(&mut app, &mut board, format!("{longest}\r\n").as_bytes()),
        ["1 ok"]
    );
}

#[test]
fn garbage_bytes_are_refused_and_the_next_line_answered() {
    let (mut app, mut board) = setup();
    let lines = exchange(&mut app, &mut board, b"\xff\x00\x1b[A junk\n4 ping\n");
    assert_eq!(lines, ["0 err 2 bad-byte", "4 ok"]);
    let lines = exchange(&mut app, &mut board, b"5 pi\tng\n5 ping\n");
    assert_eq!(lines, ["0 err 2 bad-byte", "5 ok"]);
    // A `\r` that is not right before the `\n` is a bad byte.
    let lines = exchange(&mut app, &mut board, b"6 pi\rng\n");
    assert_eq!(lines, ["0 err 2 bad-byte"]);
}

#[test]
fn crlf_blank_lines_and_extra_spaces() {
    let (mut app, mut board) = setup();
    let lines = exchange(
        &mut app,
        &mut board,
        b"1 ping\r\n\r\n\n   \n  2   ping  \r\n",
    );
    assert_eq!(lines, ["1 ok", "2 ok"]);
    let request = format!("3   run  {}\r\n", GOOD.replace(' ', "   "));
    let lines = exchange(&mut app, &mut board, request.as_bytes());
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with("3 ok runs=1 checksum="));
}

#[test]
fn board_commands_get_the_line_after_the_id() {
    let (mut app, mut board) = setup();
    assert_eq!(exchange(&mut app, &mut board, b"12 exit\n"), ["12 ok"]);
    assert!(board.exited);
    assert_eq!(
        exchange(&mut app, &mut board, b"13 exit now\n"),
        ["13 err 4 unknown-command: no command exit"]
    );
}

#[test]
fn bytes_split_anywhere_give_the_same_answers() {
    let (mut app, mut board) = setup();
    let input = b"1 ping\r\n2 run kernel=relu dtype=f32 n=4 runs=1 warmup=0 batch=1 seed=3\n";
    let whole = exchange(&mut app, &mut board, input);
    let mut split = Vec::new();
    for &byte in input {
        split.extend(exchange(&mut app, &mut board, &[byte]));
    }
    assert_eq!(whole, split);
}

#[test]
fn a_stopped_timer_gives_zero_ticks_and_no_hang() {
    let (mut app, mut board) = setup();
    board.tick_step = 0;
    let lines = exchange(&mut app, &mut board, format!("1 run {GOOD}\n").as_bytes());
    assert_eq!(lines[0], "1 run 0 ticks=0");
    assert!(lines[1].starts_with("1 ok runs=1 checksum="));
}
