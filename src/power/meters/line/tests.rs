//! Tests of the line format: expected values are read off the documented format.

use proptest::prelude::*;

use super::*;

fn events(parser: &mut LineParser, text: &[u8]) -> Vec<LineEvent> {
    parser.push(text)
}

fn readings(events: &[LineEvent]) -> Vec<Reading> {
    events
        .iter()
        .filter_map(|e| match e {
            LineEvent::Reading(r) => Some(*r),
            _ => None,
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn the_basic_form_gives_volts_amps_and_their_product() {
    let mut parser = LineParser::at_line_start();
    let got = readings(&events(&mut parser, b"1000,3.300,0.125\n"));
    assert_eq!(got.len(), 1);
    let r = got[0];
    assert_eq!(r.t_ms, 1000);
    assert!(close(r.bus_v, 3.3));
    assert!(close(r.current_a, 0.125));
    assert!(close(r.power_w, 0.4125));
    assert_eq!(r.shunt_mv, None);
}

#[test]
fn the_extended_form_takes_milliamps_and_the_printed_power() {
    let mut parser = LineParser::at_line_start();
    let text = format!("{EXTENDED_HEADER}\n1000,5.012,12.34,123.4,618.5\r\n");
    let got = events(&mut parser, text.as_bytes());
    assert_eq!(got[0], LineEvent::Header);
    let r = readings(&got)[0];
    assert!(close(r.bus_v, 5.012));
    assert!(close(r.current_a, 0.1234));
    // The device's power, not 5.012 × 0.1234 = 0.6184808.
    assert!(close(r.power_w, 0.6185));
    assert_eq!(r.shunt_mv, Some(12.34));
}

#[test]
fn a_header_names_the_columns_in_any_order() {
    let mut parser = LineParser::at_line_start();
    let got = events(
        &mut parser,
        b"# current_mA, t_ms, bus_V, temp_C\n12.5,100,3.3,21.0\n",
    );
    let r = readings(&got)[0];
    assert_eq!(r.t_ms, 100);
    assert!(close(r.current_a, 0.0125));
    assert!(close(r.power_w, 3.3 * 0.0125));
    // A row of the old width no longer fits.
    let got = events(&mut parser, b"200,3.3,0.5\n");
    assert_eq!(
        got,
        [LineEvent::Dropped(DropReason::FieldCount {
            got: 3,
            expected: 4
        })]
    );
}

#[test]
fn the_first_line_after_opening_is_dropped() {
    let mut parser = LineParser::new();
    // The tail of "1234,3.30,0.05": a valid-looking but wrong reading.
    let got = events(&mut parser, b"4,3.30,0.05\n1235,3.30,0.05\n");
    assert_eq!(got[0], LineEvent::Dropped(DropReason::FirstLine));
    assert_eq!(readings(&got)[0].t_ms, 1235);
    assert_eq!(parser.stats().readings, 1);

    // A first line that is a comment is kept: it cannot pass for a reading.
    let mut parser = LineParser::new();
    let got = events(&mut parser, b"# actprof emulator\n7,1.0,1.0\n");
    assert_eq!(got[0], LineEvent::Comment("actprof emulator".into()));
    assert!(parser.stats().emulator);
    assert_eq!(readings(&got)[0].t_ms, 7);
}

#[test]
fn malformed_lines_are_dropped_and_counted() {
    let mut parser = LineParser::at_line_start();
    let text: &[u8] = b"100,3.3,0.1\n\
        101,3.3\n\
        102,3.3,0.1,7\n\
        103,,0.1\n\
        104,3.3,nan\n\
        105,3.3,1e-3\n\
        106,3.3,0x1\n\
        -107,3.3,0.1\n\
        108.5,3.3,0.1\n\
        4294967296,3.3,0.1\n\
        109,3.3,0.1\xff\n\
        110,3.3,.5\n\
        111,3.3,5.\n\
        \n\
        112,3.3,0.1\n";
    let got = events(&mut parser, text);
    let kept: Vec<u32> = readings(&got).iter().map(|r| r.t_ms).collect();
    assert_eq!(kept, [100, 112]);
    let stats = parser.stats();
    assert_eq!(stats.dropped, 12);
    assert_eq!(stats.not_text, 1);
    assert_eq!(stats.malformed, 11);
}

#[test]
fn an_overlong_line_is_dropped_and_the_next_kept() {
    let mut parser = LineParser::at_line_start();
    let mut text = vec![b'1'; MAX_LINE_LEN + 50];
    text.extend_from_slice(b"\n7,3.3,0.1\n");
    let got = events(&mut parser, &text);
    assert_eq!(
        got[0],
        LineEvent::Dropped(DropReason::Overlong {
            len: MAX_LINE_LEN + 50
        })
    );
    assert_eq!(readings(&got)[0].t_ms, 7);
    assert_eq!(parser.stats().overlong, 1);
}

#[test]
fn comments_banners_and_the_emulator_mark() {
    let mut parser = LineParser::at_line_start();
    let got = events(
        &mut parser,
        b"ina-logger: INA219 at 0x40\n# actprof emulator, seed 7\n1,1.0,1.0\n",
    );
    assert_eq!(
        got[0],
        LineEvent::Banner("ina-logger: INA219 at 0x40".into())
    );
    assert_eq!(
        got[1],
        LineEvent::Comment("actprof emulator, seed 7".into())
    );
    assert!(parser.stats().emulator);
    assert_eq!(parser.stats().banners, 1);
}

#[test]
fn the_layout_is_relearned_after_five_lines_of_another_valid_width() {
    let mut parser = LineParser::at_line_start();
    events(&mut parser, b"1,3.3,0.1\n");
    let mut five = String::new();
    for t in 2..8 {
        five.push_str(&format!("{t},3.3,1.0,100.0,330.0\n"));
    }
    let got = events(&mut parser, five.as_bytes());
    // Five dropped while the width is learned, then the sixth is read.
    let kept: Vec<u32> = readings(&got).iter().map(|r| r.t_ms).collect();
    assert_eq!(kept, [7]);
    assert_eq!(parser.stats().relearned, 1);
}

#[test]
fn the_32_bit_clock_wraps_forward() {
    let mut time = DeviceTime::default();
    assert_eq!(time.step(4_294_967_000), Step::Restarted(4_294_967_000));
    assert_eq!(time.step(4_294_967_295), Step::Forward(4_294_967_295));
    // 296 ms later, past 2³²: 4 294 967 296 + 200.
    assert_eq!(time.step(200), Step::Forward(CLOCK_WRAP_MS + 200));
    assert_eq!(time.wraps, 1);
    assert_eq!(time.restarts, 0);
    // Going back is a restart.
    assert_eq!(time.step(50), Step::Restarted(50));
    assert_eq!(time.restarts, 1);
}

#[test]
fn a_wrap_in_the_stream_keeps_the_spacing() {
    let mut reader = LineReader::at_line_start();
    let text = b"4294967195,3.3,0.1\n4294967295,3.3,0.1\n99,3.3,0.1\n";
    let samples = reader.push(text, 10.0);
    let t: Vec<f64> = samples.iter().map(|s| s.t_s).collect();
    assert_eq!(t.len(), 3);
    assert!(close(t[1] - t[0], 0.1), "{t:?}");
    assert!(close(t[2] - t[1], 0.1), "{t:?}");
    assert_eq!(reader.device_time().wraps, 1);
}

#[test]
fn a_burst_is_anchored_by_its_latest_reading() {
    let mut reader = LineReader::at_line_start();
    let samples = reader.push(b"100,3.3,0.1\n200,3.3,0.1\n300,3.3,0.1\n", 5.0);
    let t: Vec<f64> = samples.iter().map(|s| s.t_s).collect();
    // The last line had arrived by 5.0 s; the others were taken 0.1 s apart before it.
    assert!(
        close(t[0], 4.8) && close(t[1], 4.9) && close(t[2], 5.0),
        "{t:?}"
    );
}

#[test]
fn a_reset_banner_restarts_the_clock_without_going_back() {
    let mut reader = LineReader::at_line_start();
    let first = reader.push(b"5000,3.3,0.1\n5100,3.3,0.1\n", 1.0);
    let after = reader.push(b"ina-logger: reset\n0,3.3,0.2\n100,3.3,0.2\n", 1.5);
    let t: Vec<f64> = first.iter().chain(&after).map(|s| s.t_s).collect();
    // Each epoch is anchored at its latest reading's arrival.
    let expected = [0.9, 1.0, 1.4, 1.5];
    assert!(t.iter().zip(expected).all(|(a, b)| close(*a, b)), "{t:?}");
    assert_eq!(reader.device_time().restarts, 1);
    assert_eq!(after[0].current_a, Some(0.2));
}

#[test]
fn time_going_back_without_a_banner_is_a_restart_too() {
    let mut reader = LineReader::at_line_start();
    let first = reader.push(b"5000,3.3,0.1\n", 1.0);
    let after = reader.push(b"20,3.3,0.1\n120,3.3,0.1\n", 2.0);
    assert_eq!(first[0].t_s, 1.0);
    let t: Vec<f64> = after.iter().map(|s| s.t_s).collect();
    assert!(close(t[0], 1.9) && close(t[1], 2.0), "{t:?}");
    assert_eq!(reader.device_time().restarts, 1);
}

#[test]
fn the_offset_follows_a_fast_or_slow_device_clock() {
    // Device 1 % fast: its time runs ahead of arrival; stamps never exceed arrival.
    let mut clock = DeviceClock::default();
    for k in 0..400 {
        let arrival = f64::from(k) * 0.1;
        clock.observe(arrival * 1.01, arrival);
        let t = clock.stamp(arrival * 1.01);
        assert!(t <= arrival + 1e-9, "{k}: {t} > {arrival}");
    }
    // Device 1 % slow: the lag stays within the bound plus two windows of drift.
    let mut clock = DeviceClock::default();
    for k in 0..400 {
        let arrival = f64::from(k) * 0.1;
        clock.observe(arrival * 0.99, arrival);
        let t = clock.stamp(arrival * 0.99);
        assert!(t <= arrival + 1e-9);
        assert!(
            arrival - t <= MAX_LAG_S + 0.01 * LAG_WINDOW_S * 2.0,
            "{k}: {t}"
        );
    }
}

#[test]
fn samples_carry_volts_amps_and_watts() {
    let mut reader = LineReader::at_line_start();
    let samples = reader.push(b"t_ms,bus_V,current_A\n10,5.0,0.2\n", 3.0);
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].t_s, 3.0);
    assert!(close(samples[0].power_w, 1.0));
    assert_eq!(samples[0].voltage_v, Some(5.0));
    assert_eq!(samples[0].current_a, Some(0.2));
}

/// A valid extended line and the values the format says it holds.
fn valid_line() -> impl Strategy<Value = (String, Reading)> {
    (
        any::<u32>(),
        0u32..40_000,
        -32_768i32..32_768,
        -320_000i32..320_000,
        0u32..10_000_000,
    )
        .prop_map(|(t, mv, shunt, ma10, uw100)| {
            let bus = format!("{}.{:03}", mv / 1000, mv % 1000);
            let shunt = format!("{:.2}", f64::from(shunt) / 100.0);
            let current = format!("{:.1}", f64::from(ma10) / 10.0);
            let power = format!("{}.{}", uw100 / 10, uw100 % 10);
            let line = format!("{t},{bus},{shunt},{current},{power}");
            let number = |s: &str| s.parse::<f64>().expect("std parses it");
            let reading = Reading {
                t_ms: t,
                bus_v: number(&bus),
                current_a: number(&current) / 1000.0,
                power_w: number(&power) / 1000.0,
                shunt_mv: Some(number(&shunt)),
            };
            (line, reading)
        })
}

/// Ways to corrupt a line so that it no longer fits the format.
#[derive(Clone, Debug)]
enum Mutation {
    /// A byte ≥ 0x80 or a control byte inserted.
    Garbage(usize, u8),
    /// A letter, sign or dot inserted inside the line (not at its start). Every number
    /// field but `t_ms` has a dot, so a second dot cannot make a valid number.
    Stray(usize, u8),
    /// A comma removed.
    DropComma(usize),
    /// A comma doubled.
    DoubleComma(usize),
    /// A field added.
    ExtraField,
    /// Padded past the length limit.
    Overlong,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (
            any::<usize>(),
            prop_oneof![0x80u8..=0xff, 0u8..0x09, 0x0bu8..0x0d]
        )
            .prop_map(|(at, b)| Mutation::Garbage(at, b)),
        (any::<usize>(), prop::sample::select(b"xE#-.+;".to_vec()))
            .prop_map(|(at, b)| Mutation::Stray(at, b)),
        any::<usize>().prop_map(Mutation::DropComma),
        any::<usize>().prop_map(Mutation::DoubleComma),
        Just(Mutation::ExtraField),
        Just(Mutation::Overlong),
    ]
}

fn mutate(line: &str, mutation: &Mutation) -> Vec<u8> {
    let mut bytes = line.as_bytes().to_vec();
    let commas: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b',').collect();
    match *mutation {
        Mutation::Garbage(at, b) => bytes.insert(at % (bytes.len() + 1), b),
        Mutation::Stray(at, b) => {
            // Inside a number, or between a comma and a number: never a valid field.
            let at = 1 + at % (bytes.len() - 1);
            // After a comma a `-` would start a valid negative number.
            let b = if b == b'-' && bytes[at - 1] == b',' {
                b'x'
            } else {
                b
            };
            bytes.insert(at, b);
        }
        Mutation::DropComma(k) => {
            bytes.remove(commas[k % commas.len()]);
        }
        Mutation::DoubleComma(k) => bytes.insert(commas[k % commas.len()], b','),
        Mutation::ExtraField => bytes.extend_from_slice(b",1.0"),
        Mutation::Overlong => bytes.resize(MAX_LINE_LEN + 1, b'0'),
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 60_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic_and_give_only_finite_samples(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8),
        crafted in prop::collection::vec(
            prop::sample::select(b"0123456789,.-\r\n#t_msbusVcurrentAmW ".to_vec()), 0..200),
    ) {
        let mut reader = LineReader::new();
        let mut last = f64::NEG_INFINITY;
        let mut arrival = 0.0;
        for chunk in chunks.iter().chain(std::iter::once(&crafted)) {
            arrival += 0.05;
            for sample in reader.push(chunk, arrival) {
                prop_assert!(sample.t_s.is_finite() && sample.power_w.is_finite());
                prop_assert!(sample.t_s >= last);
                last = sample.t_s;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 50_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_reading_comes_from_a_corrupt_line(
        lines in prop::collection::vec(valid_line(), 2..6),
        victim in any::<usize>(),
        how in mutation(),
        crlf in any::<bool>(),
    ) {
        let victim = victim % lines.len();
        let ending: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut stream = format!("{EXTENDED_HEADER}\n").into_bytes();
        for (index, (line, _)) in lines.iter().enumerate() {
            if index == victim {
                stream.extend(mutate(line, &how));
            } else {
                stream.extend_from_slice(line.as_bytes());
            }
            stream.extend_from_slice(ending);
        }
        let mut parser = LineParser::at_line_start();
        let got = readings(&parser.push(&stream));
        let expected: Vec<Reading> = lines
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != victim)
            .map(|(_, (_, reading))| *reading)
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(parser.stats().dropped, 1);
    }
}
