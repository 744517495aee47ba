//! The emulated DUT byte for byte, over a real pty.

use std::time::Duration;

use super::*;
use crate::serial::Link;
use crate::target::mlperf::protocol::{Message, elapsed_us, parse_line};
use crate::target::mlperf::testing::{EmulatedPort, ends_ready, read_until};

const WAIT: Duration = Duration::from_secs(3);

fn options(faults: &str) -> DutEmulatorOptions {
    DutEmulatorOptions {
        faults: faults.parse().expect("faults"),
        ..DutEmulatorOptions::default()
    }
}

/// Sends `command` and returns the reply up to its `m-ready`.
fn ask(link: &mut dyn Link, command: &[u8]) -> Vec<u8> {
    link.write_all(command).expect("write");
    read_until(link, WAIT, ends_ready)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn banner(link: &mut dyn Link) -> Vec<u8> {
    read_until(link, WAIT, ends_ready)
}

#[test]
fn the_command_buffer_keeps_80_characters_and_overwrites_the_last_slot() {
    let mut buffer = CommandBuffer::default();
    for &byte in b"name" {
        assert_eq!(buffer.push(byte), None);
    }
    assert_eq!(buffer.push(b'%'), Some(b"name".to_vec()));
    // 79 characters, then `b` fills the 80th slot, `c` and `d` land in the slot after it
    // (the write index no longer moves), and `%` ends the string at 80.
    let mut long = vec![b'a'; 79];
    long.extend_from_slice(b"bcd");
    for &byte in &long {
        assert_eq!(buffer.push(byte), None);
    }
    let mut want = vec![b'a'; 79];
    want.push(b'b');
    assert_eq!(buffer.push(b'%'), Some(want));
    assert_eq!(buffer.push(b'%'), Some(Vec::new()));
}

#[test]
fn atoi_reads_like_c() {
    assert_eq!(atoi("20"), 20);
    assert_eq!(atoi("  -5x"), -5);
    assert_eq!(atoi("+7"), 7);
    assert_eq!(atoi("abc"), 0);
    assert_eq!(atoi(""), 0);
    assert_eq!(atoi("99999999999999"), i64::from(i32::MAX));
    assert_eq!(atoi("-99999999999999"), i64::from(i32::MIN));
}

#[test]
fn it_boots_and_answers_the_basic_commands_exactly() {
    let (_port, mut link) = EmulatedPort::start(DutEmulatorOptions::default());
    let boot = text(&banner(link.as_mut()));
    let lines: Vec<&str> = boot.split("\r\n").collect();
    assert_eq!(lines[0], "m-timestamp-mode-performance");
    assert!(lines[1].starts_with("m-lap-us-"), "{boot}");
    assert_eq!(&lines[2..], ["m-init-done", "m-ready", ""]);

    assert_eq!(
        ask(link.as_mut(), b"name%"),
        b"m-name-dut-[emu]\r\nm-ready\r\n"
    );
    assert_eq!(
        text(&ask(link.as_mut(), b"profile%")),
        "m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\nm-model-[ic01]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"foo bar%"),
        b"e-[Unknown command: foo]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"%"),
        b"e-[Unknown command: ]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"db%"),
        b"e-[Command 'db' requires a subcommand]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"db load%"),
        b"e-[Command 'db load' requires the # of bytes]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"db load 0%"),
        b"e-[Command 'db load' must be >0 bytes]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"infer 0%"),
        b"e-[Inference iterations must be >0]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"infer 1 -1%"),
        b"e-[Inference warmup must be >=0]\r\nm-ready\r\n"
    );
    let stamp = text(&ask(link.as_mut(), b"timestamp%"));
    assert!(stamp.starts_with("m-lap-us-") && stamp.ends_with("\r\nm-ready\r\n"));
}

#[test]
fn a_command_past_80_characters_is_cut_like_the_firmware_cuts_it() {
    let (_port, mut link) = EmulatedPort::start(DutEmulatorOptions::default());
    banner(link.as_mut());
    // `db ` and 100 hex digits: the firmware keeps `db ` and 77 digits, an odd count.
    let mut command = b"db ".to_vec();
    command.extend(std::iter::repeat_n(b'a', 100));
    command.push(b'%');
    assert_eq!(
        ask(link.as_mut(), &command),
        b"e-[Insufficent number of hex digits]\r\nm-ready\r\n"
    );
    // 79 `x`, then `yz`: the 80th character is `y`, `z` is overwritten by the string end.
    let mut command = vec![b'x'; 79];
    command.extend_from_slice(b"yz%");
    let reply = text(&ask(link.as_mut(), &command));
    assert_eq!(
        reply,
        format!("e-[Unknown command: {}y]\r\nm-ready\r\n", "x".repeat(79))
    );
}

#[test]
fn the_buffer_loads_prints_and_reports_done() {
    let (_port, mut link) = EmulatedPort::start(DutEmulatorOptions::default());
    banner(link.as_mut());
    assert_eq!(
        ask(link.as_mut(), b"db load 10%"),
        b"m-[Expecting 10 bytes]\r\nm-ready\r\n"
    );
    assert_eq!(ask(link.as_mut(), b"db 00FF10%"), b"m-ready\r\n");
    assert_eq!(
        ask(link.as_mut(), b"db 0g%"),
        b"e-[Invalid hex digit '0g']\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"db 010203040506070809%"),
        b"m-load-done\r\nm-ready\r\n"
    );
    assert_eq!(
        text(&ask(link.as_mut(), b"db print%")),
        "m-buffer-00-ff-10-01-02-03-04-05\r\nm-buffer-06-07\r\n\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"db load 3073%"),
        b"Supplied buffer size 3073 exceeds maximum of 3072\nm-ready\r\n"
    );
}

#[test]
fn infer_prints_the_exact_sequence_and_times_n_inferences() {
    let options = DutEmulatorOptions {
        inference_time: Duration::from_micros(1500),
        ..DutEmulatorOptions::default()
    };
    let (_port, mut link) = EmulatedPort::start(options);
    banner(link.as_mut());
    let reply = text(&ask(link.as_mut(), b"infer 20 5%"));
    let lines: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(
        &lines[..3],
        ["m-warmup-start-5", "m-warmup-done", "m-infer-start-20"]
    );
    let stamp = |line: &str| match parse_line(line) {
        Message::LapUs(us) => us,
        other => panic!("{other:?}"),
    };
    let (t0, t1) = (stamp(lines[3]), stamp(lines[4]));
    assert_eq!(elapsed_us(t0, t1), Some(30_000));
    assert_eq!(
        &lines[5..],
        [
            "m-infer-done",
            "m-results-[0.000,0.996,0.000,0.000,0.004,0.000,0.000,0.000,0.000,0.000]",
            "m-ready",
            ""
        ]
    );
    assert_eq!(
        text(&ask(link.as_mut(), b"results%")),
        format!("{}\r\nm-ready\r\n", lines[6])
    );
}

#[test]
fn the_clock_wraps_at_2_pow_32() {
    let options = DutEmulatorOptions {
        clock_start_us: u32::MAX - 5_000,
        ..DutEmulatorOptions::default()
    };
    let (_port, mut link) = EmulatedPort::start(options);
    banner(link.as_mut());
    std::thread::sleep(Duration::from_millis(20));
    let stamp = text(&ask(link.as_mut(), b"timestamp%"));
    let us: u64 = stamp
        .trim_start_matches("m-lap-us-")
        .split('\r')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a stamp");
    // 20 ms after starting 5 ms before the wrap: past it, counting from 0 again.
    assert!(us < 1_000_000, "{us}");

    let (_port, mut link) = EmulatedPort::start(options_with_wrap());
    banner(link.as_mut());
    let reply = text(&ask(link.as_mut(), b"infer 10 0%"));
    let laps: Vec<u64> = reply
        .split("\r\n")
        .filter_map(|line| match parse_line(line) {
            Message::LapUs(us) => Some(us),
            _ => None,
        })
        .collect();
    assert_eq!(laps.len(), 2);
    assert!(laps[1] < laps[0], "{laps:?}");
    assert_eq!(elapsed_us(laps[0], laps[1]), Some(10_000));
}

fn options_with_wrap() -> DutEmulatorOptions {
    options("wrap")
}

#[test]
fn energy_mode_prints_no_timestamps() {
    let options = DutEmulatorOptions {
        mode: TimestampMode::Energy,
        ..DutEmulatorOptions::default()
    };
    let (_port, mut link) = EmulatedPort::start(options);
    assert_eq!(
        banner(link.as_mut()),
        b"m-timestamp-mode-energy\r\nm-init-done\r\nm-ready\r\n"
    );
    assert_eq!(ask(link.as_mut(), b"timestamp%"), b"m-ready\r\n");
    let reply = text(&ask(link.as_mut(), b"infer 2 0%"));
    assert!(!reply.contains("m-lap-us"), "{reply}");
    assert!(
        reply.contains("m-infer-start-2\r\nm-infer-done\r\n"),
        "{reply}"
    );
}

#[test]
fn line_faults_change_the_bytes_not_the_text() {
    let (_port, mut link) = EmulatedPort::start(options("lf,garbage,echo"));
    let mut all = banner(link.as_mut());
    for _ in 0..10 {
        all.extend(ask(link.as_mut(), b"name%"));
    }
    assert!(!all.contains(&b'\r'));
    assert!(all.contains(&0xff), "some line gets a 0xFF");
    let text = text(&all).replace('\u{fffd}', "");
    assert_eq!(text.matches("name%\n").count(), 10, "each command echoed");
    assert_eq!(text.matches("m-name-dut-[emu]\n").count(), 10);
}

#[test]
fn a_stale_half_command_is_completed_by_a_lone_percent() {
    let (_port, mut link) = EmulatedPort::start(options("stale"));
    banner(link.as_mut());
    assert_eq!(
        ask(link.as_mut(), b"%"),
        b"e-[Insufficent number of hex digits]\r\nm-ready\r\n"
    );
    assert_eq!(
        ask(link.as_mut(), b"name%"),
        b"m-name-dut-[emu]\r\nm-ready\r\n"
    );
}

#[test]
fn a_small_buffer_gets_the_unprefixed_line() {
    let (_port, mut link) = EmulatedPort::start(options("unprefixed"));
    banner(link.as_mut());
    assert_eq!(
        ask(link.as_mut(), b"db load 3072%"),
        b"Supplied buffer size 3072 exceeds maximum of 1536\nm-ready\r\n"
    );
}

#[test]
fn drop_ready_and_reset_hit_the_kth_infer() {
    let (_port, mut link) = EmulatedPort::start(options("drop-ready=2"));
    banner(link.as_mut());
    assert!(ends_ready(&ask(link.as_mut(), b"infer 1 0%")));
    link.write_all(b"infer 1 0%").expect("write");
    let reply = read_until(link.as_mut(), Duration::from_millis(400), ends_ready);
    assert!(
        text(&reply).ends_with(
            "m-results-[0.000,0.996,0.000,0.000,0.004,0.000,0.000,0.000,0.000,0.000]\r\n"
        )
    );
    assert!(ends_ready(&ask(link.as_mut(), b"infer 1 0%")));

    let (_port, mut link) = EmulatedPort::start(options("reset"));
    banner(link.as_mut());
    let reply = text(&ask(link.as_mut(), b"infer 4 0%"));
    assert!(reply.starts_with("m-warmup-start-0\r\nm-warmup-done\r\nm-infer-start-4\r\n"));
    assert!(
        reply.contains("m-timestamp-mode-performance\r\n"),
        "{reply}"
    );
    assert!(!reply.contains("m-infer-done"), "{reply}");
}

#[test]
fn a_slow_boot_swallows_commands_until_the_banner() {
    let (_port, mut link) = EmulatedPort::start(options("slow-ready=300ms"));
    link.write_all(b"name%").expect("write");
    let early = read_until(link.as_mut(), Duration::from_millis(150), ends_ready);
    assert!(early.is_empty(), "{}", text(&early));
    let boot = text(&read_until(link.as_mut(), WAIT, ends_ready));
    assert!(boot.starts_with("m-timestamp-mode-performance"), "{boot}");
    assert_eq!(
        ask(link.as_mut(), b"name%"),
        b"m-name-dut-[emu]\r\nm-ready\r\n"
    );
}

#[test]
fn silence_and_disconnect_come_after_their_time() {
    let (_port, mut link) = EmulatedPort::start(options("silent-after=200ms"));
    banner(link.as_mut());
    std::thread::sleep(Duration::from_millis(250));
    link.write_all(b"name%").expect("write");
    assert!(read_until(link.as_mut(), Duration::from_millis(200), ends_ready).is_empty());

    let (port, mut link) = EmulatedPort::start(options("disconnect-after=200ms"));
    banner(link.as_mut());
    let err = loop {
        match link.read_some(&mut [0u8; 16], Duration::from_millis(100)) {
            Ok(_) => continue,
            Err(err) => break err,
        }
    };
    assert!(err.is_disconnect(), "{err}");
    // The emulator thread closes the port and then ends: give it a moment to return.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !port.finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(port.finished());
}
