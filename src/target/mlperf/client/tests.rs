//! The DUT session against scripted replies (odd and broken input, no timing) and against
//! the emulator over a real pty.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::target::mlperf::emulator::DutEmulatorOptions;
use crate::target::mlperf::testing::EmulatedPort;

/// Short timeouts, so failing tests fail fast.
fn quick() -> ClientConfig {
    ClientConfig {
        line_timeout: Duration::from_millis(400),
        infer_timeout: Duration::from_secs(2),
        name_timeout: Duration::from_millis(200),
        tries: 3,
        quiet: Duration::from_millis(30),
        max_drain: Duration::from_millis(500),
    }
}

type Responder = Box<dyn FnMut(&str) -> Vec<u8> + Send>;

/// A link whose "DUT" is a function from each command (text before `%`) to its reply.
struct Scripted {
    command: Vec<u8>,
    incoming: VecDeque<u8>,
    respond: Responder,
}

impl Scripted {
    fn boxed(respond: impl FnMut(&str) -> Vec<u8> + Send + 'static) -> Box<dyn Link> {
        Box::new(Scripted {
            command: Vec::new(),
            incoming: VecDeque::new(),
            respond: Box::new(respond),
        })
    }
}

impl Link for Scripted {
    fn name(&self) -> &str {
        "/dev/scripted0"
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), SerialError> {
        for &byte in bytes {
            if byte == b'%' {
                let raw = std::mem::take(&mut self.command);
                let command = String::from_utf8_lossy(&raw);
                let reply = (self.respond)(&command);
                self.incoming.extend(reply);
            } else {
                self.command.push(byte);
            }
        }
        Ok(())
    }

    fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, SerialError> {
        if self.incoming.is_empty() {
            std::thread::sleep(timeout.min(Duration::from_millis(2)));
            return Ok(0);
        }
        let count = buf.len().min(self.incoming.len());
        for (slot, byte) in buf.iter_mut().zip(self.incoming.drain(..count)) {
            *slot = byte;
        }
        Ok(count)
    }

    fn discard_input(&mut self) -> Result<(), SerialError> {
        self.incoming.clear();
        Ok(())
    }
}

/// A well-behaved DUT running kws01, except that `infer` answers with `infer(N, W)`.
fn fake_dut(mut infer: impl FnMut(u32, u32) -> String + Send + 'static) -> Responder {
    let mut expected = 0usize;
    let mut stored = 0usize;
    Box::new(move |command: &str| {
        let words: Vec<&str> = command.split(' ').collect();
        let body = match words.as_slice() {
            ["name"] => "m-name-dut-[acme]\r\n".to_owned(),
            ["profile"] => "m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\n\
                            m-model-[kws01]\r\n"
                .to_owned(),
            ["timestamp"] => "m-lap-us-1000\r\n".to_owned(),
            ["db", "load", count] => {
                expected = count.parse().unwrap_or(0);
                stored = 0;
                format!("m-[Expecting {expected} bytes]\r\n")
            }
            ["db", hex] => {
                stored += hex.len() / 2;
                if stored == expected {
                    "m-load-done\r\n".to_owned()
                } else {
                    String::new()
                }
            }
            ["infer", n, w] => infer(n.parse().unwrap_or(0), w.parse().unwrap_or(0)),
            [other, ..] => format!("e-[Unknown command: {other}]\r\n"),
            [] => String::new(),
        };
        format!("{body}m-ready\r\n").into_bytes()
    })
}

fn infer_reply(n: u32, w: u32, t0: u64, t1: u64) -> String {
    format!(
        "m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\nm-lap-us-{t0}\r\n\
         m-lap-us-{t1}\r\nm-infer-done\r\nm-results-[0.1,0.9]\r\n"
    )
}

fn connect(respond: Responder) -> Result<DutClient, DutError> {
    DutClient::over_link(Scripted::boxed(respond), 115_200, quick())
}

fn connected(respond: Responder) -> DutClient {
    connect(respond).expect("connects")
}

#[test]
fn a_session_identifies_downloads_and_times_an_infer() {
    let mut dut = connected(fake_dut(|n, w| infer_reply(n, w, 1_000_000, 1_070_000)));
    let info = dut.info().clone();
    assert_eq!(info.name, "dut-[acme]");
    assert_eq!(info.profile, "ULPMark for tinyML Firmware V0.0.1");
    assert_eq!(info.model, "kws01");
    assert!(!info.is_emulated());
    dut.download(&[7u8; 490]).expect("downloads");
    let inference = dut.infer(70, 10).expect("infers");
    assert_eq!(inference.elapsed_us, 70_000);
    assert_eq!((inference.t0_us, inference.t1_us), (1_000_000, 1_070_000));
    assert_eq!(inference.results, "0.1,0.9");
}

#[test]
fn echoes_and_unknown_lines_are_skipped() {
    let mut inner = fake_dut(|n, w| {
        format!(
            "Full command: infer\r\nm-debug-[x]\r\n{}",
            infer_reply(n, w, 5, 25)
        )
    });
    // Echo the command as its own line, and glued to the reply's first line.
    let mut turn = 0;
    let respond: Responder = Box::new(move |command: &str| {
        turn += 1;
        let reply = inner(command);
        let mut out = if turn % 2 == 0 {
            format!("{command}%\r\n").into_bytes()
        } else {
            format!("{command}%").into_bytes()
        };
        out.extend(reply);
        out
    });
    let mut dut = connected(respond);
    assert_eq!(dut.info().name, "dut-[acme]");
    dut.download(&[1u8; 100]).expect("downloads");
    assert_eq!(dut.infer(3, 0).expect("infers").elapsed_us, 20);
    assert!(dut.stats().echoes > 5, "{:?}", dut.stats());
}

#[test]
fn garbage_bytes_and_nul_are_dropped_and_counted() {
    let mut inner = fake_dut(|n, w| infer_reply(n, w, 100, 300));
    let respond: Responder = Box::new(move |command: &str| {
        let mut out = vec![0xff, 0x00];
        out.extend(inner(command));
        out
    });
    let mut dut = connected(respond);
    assert_eq!(dut.infer(2, 1).expect("infers").elapsed_us, 200);
    assert!(dut.stats().dropped_bytes >= 10, "{:?}", dut.stats());
}

#[test]
fn a_wrapped_timer_gives_the_difference_modulo_2_pow_32() {
    let mut dut = connected(fake_dut(|n, w| infer_reply(n, w, 4_294_967_000, 704)));
    assert_eq!(dut.infer(1, 0).expect("infers").elapsed_us, 1000);
}

#[test]
fn a_dut_that_never_answers_name_is_not_a_dut() {
    let err = connect(Box::new(|_: &str| Vec::new()))
        .err()
        .expect("no answer");
    assert!(matches!(err.kind, DutErrorKind::NoAnswer { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("3 tries of 0.2 s"), "{message}");
    assert!(message.contains("`name%`"), "{message}");
    assert!(message.ends_with("/dev/scripted0"), "{message}");
}

#[test]
fn a_late_name_answer_is_taken_on_the_next_try() {
    // The first `name%` gets nothing; the second gets its answer plus the late first one.
    let mut inner = fake_dut(|n, w| infer_reply(n, w, 0, 10));
    let mut names = 0;
    let respond: Responder = Box::new(move |command: &str| {
        if command == "name" {
            names += 1;
            if names == 1 {
                return Vec::new();
            }
            let mut both = inner(command);
            both.extend(inner(command));
            return both;
        }
        inner(command)
    });
    let mut dut = connected(respond);
    // The drain after the retry left nothing behind for the next command.
    assert_eq!(dut.infer(1, 0).expect("infers").elapsed_us, 10);
}

#[test]
fn energy_mode_firmware_is_refused_at_connect_and_at_infer() {
    let mut inner = fake_dut(|_, _| String::new());
    let respond: Responder = Box::new(move |command: &str| match command {
        "timestamp" => b"m-ready\r\n".to_vec(),
        _ => inner(command),
    });
    let err = connect(respond).err().expect("refused");
    assert!(matches!(err.kind, DutErrorKind::EnergyMode { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("energy-mode firmware"), "{message}");
    assert!(message.contains("timestamp%"), "{message}");

    let mut dut = connected(fake_dut(|n, w| {
        format!(
            "m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\nm-infer-done\r\n\
             m-results-[0.5]\r\n"
        )
    }));
    let err = dut.infer(20, 5).expect_err("no laps");
    assert!(matches!(err.kind, DutErrorKind::EnergyMode { .. }), "{err}");
    assert!(err.to_string().contains("`infer 20 5%`"), "{err}");
}

#[test]
fn one_lap_line_is_an_error() {
    let mut dut = connected(fake_dut(|n, w| {
        format!(
            "m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\nm-lap-us-5\r\n\
             m-infer-done\r\nm-results-[0.5]\r\n"
        )
    }));
    let err = dut.infer(1, 0).expect_err("one lap");
    assert!(matches!(err.kind, DutErrorKind::Laps(1)), "{err}");
}

#[test]
fn a_missing_final_ready_times_out_naming_port_and_command() {
    let mut inner = fake_dut(|n, w| infer_reply(n, w, 0, 10));
    let respond: Responder = Box::new(move |command: &str| {
        let reply = inner(command);
        if command.starts_with("infer") {
            let text = String::from_utf8_lossy(&reply).replace("m-ready\r\n", "");
            return text.into_bytes();
        }
        reply
    });
    let mut dut = connected(respond);
    let err = dut.infer(4, 1).expect_err("times out");
    let message = err.to_string();
    assert!(
        matches!(err.kind, DutErrorKind::Timeout { .. }),
        "{message}"
    );
    assert!(
        message.starts_with(
            "no reply within 2.0 s while waiting for the final m-ready; the last line was \
             `m-results-[0.1,0.9]` (last command sent: `infer 4 1%`): /dev/scripted0"
        ),
        "{message}"
    );
}

#[test]
fn a_boot_banner_mid_command_is_a_reset() {
    let mut dut = connected(fake_dut(|n, _| {
        format!(
            "m-warmup-start-0\r\nm-warmup-done\r\nm-infer-start-{n}\r\n\
             m-timestamp-mode-performance\r\nm-lap-us-0\r\nm-init-done\r\n"
        )
    }));
    let err = dut.infer(2, 0).expect_err("reset");
    assert!(matches!(err.kind, DutErrorKind::Reset(_)), "{err}");
    assert!(
        err.to_string().contains("m-timestamp-mode-performance"),
        "{err}"
    );
}

#[test]
fn download_problems_are_named() {
    // The firmware's unprefixed line for a buffer too small.
    let mut inner = fake_dut(|_, _| String::new());
    let respond: Responder = Box::new(move |command: &str| {
        if command.starts_with("db load") {
            return b"Supplied buffer size 490 exceeds maximum of 100\nm-ready\r\n".to_vec();
        }
        inner(command)
    });
    let err = connected(respond)
        .download(&[0u8; 490])
        .expect_err("too small");
    assert!(
        matches!(err.kind, DutErrorKind::BufferTooSmall { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("exceeds maximum of 100"), "{err}");
    assert!(err.to_string().contains("`db load 490%`"), "{err}");

    // m-load-done after the first chunk of three.
    let mut inner = fake_dut(|_, _| String::new());
    let respond: Responder = Box::new(move |command: &str| {
        if command.starts_with("db ") && !command.starts_with("db load") {
            return b"m-load-done\r\nm-ready\r\n".to_vec();
        }
        inner(command)
    });
    let err = connected(respond).download(&[0u8; 70]).expect_err("early");
    assert!(
        matches!(
            err.kind,
            DutErrorKind::LoadEarly {
                sent: 31,
                bytes: 70
            }
        ),
        "{err}"
    );

    // An error line for a chunk.
    let mut inner = fake_dut(|_, _| String::new());
    let respond: Responder = Box::new(move |command: &str| {
        if command.starts_with("db 0") {
            return b"e-[Invalid hex digit 'zz']\r\nm-ready\r\n".to_vec();
        }
        inner(command)
    });
    let err = connected(respond)
        .download(&[0u8; 10])
        .expect_err("refused");
    assert!(matches!(err.kind, DutErrorKind::Refused(_)), "{err}");
    assert!(
        err.to_string().contains("`db 00000000…% (10 bytes)`"),
        "{err}"
    );
}

#[test]
fn a_flood_of_junk_is_bounded() {
    // A DUT stuck printing an endless line without a newline, and overlong lines.
    let mut inner = fake_dut(|n, w| infer_reply(n, w, 0, 10));
    let respond: Responder = Box::new(move |command: &str| {
        let mut out = vec![b'x'; 10_000];
        out.extend_from_slice(b"\r\n");
        out.extend(inner(command));
        out
    });
    let mut dut = connected(respond);
    assert_eq!(dut.infer(1, 0).expect("infers").elapsed_us, 10);
    assert!(dut.stats().overlong_lines > 0);
}

#[test]
fn the_emulator_is_a_dut_over_a_real_pty() {
    let options = DutEmulatorOptions {
        faults: "wrap".parse().expect("faults"),
        ..DutEmulatorOptions::default()
    };
    let (port, link) = EmulatedPort::start(options);
    let mut dut = DutClient::over_link(link, 115_200, quick()).expect("connects");
    let info = dut.info().clone();
    assert!(info.is_emulated());
    assert_eq!(info.model, "ic01");
    dut.download(&[0x5a; 3072]).expect("downloads");
    let inference = dut.infer(20, 5).expect("infers");
    // 20 inferences of the emulator's default 1 ms, across the timer's wrap.
    assert!(inference.t1_us < inference.t0_us);
    assert_eq!(inference.elapsed_us, 20_000);
    drop(dut);
    drop(port);
}

#[test]
fn a_slow_boot_is_waited_out_and_its_mode_line_noted() {
    // Commands are swallowed for 300 ms; the banner then ends the second try of `name%`
    // (an m-ready without m-name) and the third is answered.
    let options = DutEmulatorOptions {
        faults: "slow-ready=300ms".parse().expect("faults"),
        ..DutEmulatorOptions::default()
    };
    let (_port, link) = EmulatedPort::start(options);
    let dut = DutClient::over_link(link, 115_200, quick()).expect("connects");
    assert_eq!(dut.info().boot_mode, Some(TimestampMode::Performance));
    assert_eq!(dut.info().name, "dut-[emu]");
}

#[test]
fn a_disconnect_is_an_error_not_a_hang() {
    let options = DutEmulatorOptions {
        inference_time: Duration::from_millis(20),
        faults: "disconnect-after=500ms".parse().expect("faults"),
        ..DutEmulatorOptions::default()
    };
    let (_port, link) = EmulatedPort::start(options);
    let mut dut = DutClient::over_link(link, 115_200, quick()).expect("connects");
    let err = loop {
        if let Err(err) = dut.infer(10, 0) {
            break err;
        }
    };
    assert!(matches!(err.kind, DutErrorKind::Disconnected(_)), "{err}");
    assert!(err.to_string().contains("the DUT disconnected"), "{err}");
}

/// Timeouts of a few ms, for many sessions in a row.
fn tiny() -> ClientConfig {
    ClientConfig {
        line_timeout: Duration::from_millis(5),
        infer_timeout: Duration::from_millis(5),
        name_timeout: Duration::from_millis(5),
        tries: 3,
        quiet: Duration::from_millis(1),
        max_drain: Duration::from_millis(20),
    }
}

/// Lines a broken DUT might send at the wrong moment.
const STRAY_LINES: [&str; 10] = [
    "m-ready",
    "m-init-done",
    "m-timestamp-mode-energy",
    "m-lap-us-99999999999999",
    "m-lap-us-0",
    "m-infer-done",
    "m-load-done",
    "e-[Unknown command: x]",
    "Supplied buffer size 1 exceeds maximum of 0",
    "m-[Expecting 70 bytes]",
];

/// `reply` with its lines kept, dropped, doubled, replaced by random bytes, cut, or
/// joined by stray protocol lines, at random.
fn mutate(reply: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for line in reply.split_inclusive(|&b| b == b'\n') {
        match rng.random_range(0..100) {
            0..70 => out.extend_from_slice(line),
            70..78 => {}
            78..85 => {
                out.extend_from_slice(line);
                out.extend_from_slice(line);
            }
            85..90 => {
                let len = rng.random_range(0..20);
                out.extend((0..len).map(|_| rng.random::<u8>()));
            }
            90..95 => out.extend_from_slice(&line[..rng.random_range(0..=line.len())]),
            _ => {
                let stray = STRAY_LINES[rng.random_range(0..STRAY_LINES.len())];
                out.extend_from_slice(stray.as_bytes());
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(line);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_reply_makes_a_session_panic(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut inner = fake_dut(|n, w| infer_reply(n, w, 4_294_967_290, 25));
        let respond: Responder = Box::new(move |command: &str| mutate(&inner(command), &mut rng));
        if let Ok(mut dut) = DutClient::over_link(Scripted::boxed(respond), 9600, tiny()) {
            if dut.download(&[1u8; 70]).is_ok() {
                let _ = dut.infer(3, 1);
            }
            let _ = dut.infer(2, 0);
        }
    }
}
