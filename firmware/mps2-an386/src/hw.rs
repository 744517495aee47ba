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

/// SysTick (the core's timer, at SYSCLK as well): the metronome of [`align_to_tick`].
const SYST_CSR: usize = 0xE000_E010;
const SYST_RVR: usize = 0xE000_E014;
const SYST_CVR: usize = 0xE000_E018;
/// CSR: counter on, processor clock.
const SYST_ENABLE_CORE_CLOCK: u32 = 0b101;
/// CSR: raise the SysTick exception at every wrap.
const SYST_TICKINT: u32 = 0b010;
/// SysTick wraps every this many SYSCLK cycles (2.56 µs, 2560 instructions under
/// `-icount shift=0`): the longest wait of an alignment.
const METRONOME_PERIOD: u32 = 64;

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

/// TIMER0 free-running from 2^32 − 1 down, reloading there, no interrupt; and SysTick
/// wrapping every [`METRONOME_PERIOD`] cycles, its exception off until an alignment.
/// Both count SYSCLK from a fixed point of the boot, so under icount their ticks keep one
/// phase to each other for good.
pub fn timer_init() {
    write(TIMER_RELOAD, u32::MAX);
    write(TIMER_VALUE, u32::MAX);
    write(TIMER_CTRL, TIMER_ENABLE);
    write(SYST_RVR, METRONOME_PERIOD - 1);
    write(SYST_CVR, 0);
    write(SYST_CSR, SYST_ENABLE_CORE_CLOCK);
}

/// Sleeps until SysTick's next wrap and returns right after its (empty) exception handler.
///
/// Under `-icount` the wrap happens at an exact virtual time, a fixed phase of TIMER0's
/// ticks, and `wfi` resumes there, so whatever the host did before, the code after this
/// starts at the same phase of TIMER0: its tick counts repeat exactly. Spinning on the
/// timer instead lands anywhere within one pass of the loop (a few instructions), which
/// makes a count one tick longer on some runs. The exception is on only while sleeping,
/// so it never interrupts a timed run. If it fires between being turned on and `wfi`, the
/// handler runs first and `wfi` waits for the next wrap: the phase is the same.
pub fn align_to_tick() {
    write(SYST_CSR, SYST_ENABLE_CORE_CLOCK | SYST_TICKINT);
    cortex_m::asm::wfi();
    write(SYST_CSR, SYST_ENABLE_CORE_CLOCK);
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
