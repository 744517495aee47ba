//! actprof firmware for QEMU's `mps2-an386` machine (Cortex-M4F, 25 MHz).
//!
//! UART0 is the protocol's serial port (QEMU's first `-serial`), TIMER0 the free-running
//! timer, the FPGA I/O LED register the marker, and semihosting ends QEMU on `exit`. Under
//! `-icount shift=0` the ticks are QEMU instruction counts (40 instructions per 25 MHz tick),
//! not real-chip cycles.
//!
//! Built for `thumbv6m-none-eabi` instead, the same firmware runs on the same machine with
//! soft-float kernels and no cycle counter (`board=qemu-mps2-an386-thumbv6m`): ARMv6-M code
//! is valid on the M4, so QEMU checks the soft-float build end to end too.

#![no_std]
#![no_main]

mod hw;

use actprof_fw_core::app::App;
use actprof_fw_core::board::{Board, Writer};
use core::fmt::Write as _;
use cortex_m_rt::{entry, exception};
use panic_halt as _;

/// Elements per buffer: 16384 f32 in and out plus the byte buffers, 160 KiB of the 4 MiB.
const CAPACITY: usize = 16_384;

/// How long `exit` waits between its answer and ending QEMU: 10 ms of virtual time (10 M
/// instructions under `-icount shift=0`, a few tens of ms of real time).
const EXIT_GRACE_TICKS: u32 = hw::SYSCLK_HZ / 100;

/// The mps2-an386 board under QEMU.
struct Mps2 {
    /// The DWT cycle counter advanced at boot (QEMU 7.2 does not implement it).
    has_cycles: bool,
}

impl Board for Mps2 {
    fn read_byte(&mut self) -> Option<u8> {
        hw::uart_read()
    }

    fn write_byte(&mut self, byte: u8) {
        hw::uart_write(byte);
    }

    fn now_ticks(&mut self) -> u32 {
        hw::timer_ticks()
    }

    fn ticks_per_sec(&self) -> u32 {
        hw::SYSCLK_HZ
    }

    fn align_to_tick(&mut self) {
        hw::align_to_tick();
    }

    fn cycles(&mut self) -> Option<u32> {
        self.has_cycles.then(hw::cycle_count)
    }

    fn marker(&mut self, high: bool) {
        hw::led0(high);
    }

    fn name(&self) -> &'static str {
        if cfg!(armv6m) {
            "qemu-mps2-an386-thumbv6m"
        } else {
            "qemu-mps2-an386"
        }
    }

    fn emulated(&self) -> bool {
        true
    }

    fn command(&mut self, id: u32, line: &str) -> bool {
        if line != "exit" {
            return false;
        }
        let _ = write!(Writer(&mut *self), "{id} ok\r\n");
        hw::uart_flush();
        // Bytes the host has not read yet when QEMU closes the pty are dropped by the kernel
        // (the hangup flushes them): give the host time to read the answer.
        hw::wait_ticks(EXIT_GRACE_TICKS);
        // Ends QEMU with status 0 (needs `-semihosting-config enable=on`).
        cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
        true
    }
}

/// SysTick's wrap only has to wake the core from `wfi` ([`hw::align_to_tick`]).
#[exception]
fn SysTick() {}

#[entry]
fn main() -> ! {
    hw::uart_init();
    hw::timer_init();
    let has_cycles = hw::cycle_counter_init();
    let mut board = Mps2 { has_cycles };
    // In main's frame (the stack has the 4 MiB RAM to itself), so no static and no unsafe.
    let mut app = App::<CAPACITY>::new();
    app.boot(&mut board);
    loop {
        app.poll(&mut board);
    }
}
