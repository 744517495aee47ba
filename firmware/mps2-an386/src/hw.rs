//! The mps2-an386 peripherals the firmware uses, as QEMU 7.2 models them (`hw/arm/mps2.c`,
//! `hw/char/cmsdk-apb-uart.c`, `hw/timer/cmsdk-apb-timer.c`, `hw/misc/mps2-fpgaio.c`).

use core::ptr::{read_volatile, write_volatile};

#[cfg(not(armv6m))]
use cortex_m::peripheral::DWT;

/// The system clock, which also drives the CMSDK timers.
pub const SYSCLK_HZ: u32 = 25_000_000;

/// CMSDK APB UART0 (QEMU's first `-serial`).
const UART0: usize = 0x4000_4000;
const UART_DATA: usize = UART0;
const UART_STATE: usize = UART0 + 0x04;
const UART_CTRL: usize = UART0 + 0x08;
const UART_BAUDDIV: usize = UART0 + 0x10;
/// STATE bit 0: the transmit buffer is full.
const UART_TX_FULL: u32 = 1 << 0;
/// STATE bit 1: a received byte is waiting.
const UART_RX_FULL: u32 = 1 << 1;
/// CTRL: transmitter and receiver enabled (QEMU drops TX and never delivers RX without).
const UART_TX_RX_ENABLE: u32 = 0b11;
/// 25 MHz / 115200 baud; QEMU refuses divisors below 16 (and does not emulate the rate).
const UART_BAUD_DIVISOR: u32 = 217;

/// CMSDK APB TIMER0: a 32-bit down-counter at SYSCLK.
const TIMER0: usize = 0x4000_0000;
const TIMER_CTRL: usize = TIMER0;
const TIMER_VALUE: usize = TIMER0 + 0x04;
const TIMER_RELOAD: usize = TIMER0 + 0x08;
const TIMER_ENABLE: u32 = 1;

/// FPGA I/O block: LED register, bit 0 is LED0 (the marker).
const FPGAIO_LED: usize = 0x4002_8000;

fn read(address: usize) -> u32 {
    // SAFETY: every address passed is a 32-bit register of the mps2-an386 memory map above,
    // aligned and always mapped; reading it has no side effect beyond the device's own.
    unsafe { read_volatile(address as *const u32) }
}

fn write(address: usize, value: u32) {
    // SAFETY: as in `read`; the firmware is single-threaded and owns these registers.
    unsafe { write_volatile(address as *mut u32, value) }
}

/// UART0 at 115200 8N1 with transmitter and receiver on.
pub fn uart_init() {
    write(UART_BAUDDIV, UART_BAUD_DIVISOR);
    write(UART_CTRL, UART_TX_RX_ENABLE);
}

/// The received byte, if one is waiting.
pub fn uart_read() -> Option<u8> {
    (read(UART_STATE) & UART_RX_FULL != 0).then(|| read(UART_DATA) as u8)
}

/// Sends a byte, waiting while the transmit buffer is full.
pub fn uart_write(byte: u8) {
    while read(UART_STATE) & UART_TX_FULL != 0 {}
    write(UART_DATA, u32::from(byte));
}

/// Waits until the last byte has left the transmit buffer. QEMU keeps TX_FULL set while
/// its pty has not taken a byte, so this matters before ending QEMU.
pub fn uart_flush() {
    while read(UART_STATE) & UART_TX_FULL != 0 {}
}

/// TIMER0 free-running from 2^32 − 1 down, reloading there, no interrupt.
pub fn timer_init() {
    write(TIMER_RELOAD, u32::MAX);
    write(TIMER_VALUE, u32::MAX);
    write(TIMER_CTRL, TIMER_ENABLE);
}

/// TIMER0 as an up-counter: the ticks since it started, modulo 2^32.
pub fn timer_ticks() -> u32 {
    u32::MAX - read(TIMER_VALUE)
}

/// Busy-waits for `ticks` ticks of TIMER0.
pub fn wait_ticks(ticks: u32) {
    let start = timer_ticks();
    while timer_ticks().wrapping_sub(start) < ticks {}
}

/// Enables the DWT cycle counter and reports whether it advances. A real Cortex-M4 has it;
/// QEMU 7.2 reads CYCCNT as 0 forever, and DWT_CTRL.NOCYCCNT cannot be trusted to say so.
#[cfg(not(armv6m))]
pub fn cycle_counter_init() -> bool {
    let Some(mut peripherals) = cortex_m::Peripherals::take() else {
        return false;
    };
    peripherals.DCB.enable_trace();
    peripherals.DWT.enable_cycle_counter();
    let start = DWT::cycle_count();
    for _ in 0..100 {
        cortex_m::asm::nop();
    }
    DWT::cycle_count() != start
}

/// The DWT cycle counter.
#[cfg(not(armv6m))]
pub fn cycle_count() -> u32 {
    DWT::cycle_count()
}

/// ARMv6-M has no cycle counter.
#[cfg(armv6m)]
pub fn cycle_counter_init() -> bool {
    false
}

/// ARMv6-M has no cycle counter (never called: `cycle_counter_init` said so).
#[cfg(armv6m)]
pub fn cycle_count() -> u32 {
    0
}

/// LED0 of the FPGA I/O block, the marker (QEMU keeps the value; nothing is wired to it).
pub fn led0(on: bool) {
    let leds = read(FPGAIO_LED);
    write(FPGAIO_LED, if on { leds | 1 } else { leds & !1 });
}
