//! The firmware core behind a C HAL, as a static library: building it for a target compiles
//! and optimises the whole protocol engine and every kernel for that target (a generic
//! rlib alone generates no code until a board instantiates it).
//!
//! It doubles as the way to put actprof's firmware on a board that already has a C SDK:
//! link `libactprof_fw_check.a`, implement the five HAL functions, call `fw_boot` once and
//! `fw_poll` in the main loop. The C side:
//!
//! ```c
//! int32_t  fw_hal_read_byte(void);       /* next received byte 0..255, or -1 if none */
//! void     fw_hal_write_byte(uint8_t b); /* blocking send */
//! uint32_t fw_hal_now_ticks(void);       /* free-running up-counter, wraps */
//! uint32_t fw_hal_ticks_per_sec(void);
//! void     fw_hal_marker(bool high);     /* marker pin */
//! void fw_boot(void);
//! void fw_poll(void);
//! ```

#![no_std]

use actprof_fw_core::app::App;
use actprof_fw_core::board::Board;

/// Elements per buffer: 10 KiB of RAM for the buffers in all.
const CAPACITY: usize = 1024;

// SAFETY: these are the HAL functions the C side promises to provide, with exactly these
// C signatures; none of them has preconditions, so each is declared safe to call.
unsafe extern "C" {
    safe fn fw_hal_read_byte() -> i32;
    safe fn fw_hal_write_byte(byte: u8);
    safe fn fw_hal_now_ticks() -> u32;
    safe fn fw_hal_ticks_per_sec() -> u32;
    safe fn fw_hal_marker(high: bool);
}

/// The board behind the C HAL.
struct CHal;

impl Board for CHal {
    fn read_byte(&mut self) -> Option<u8> {
        u8::try_from(fw_hal_read_byte()).ok()
    }

    fn write_byte(&mut self, byte: u8) {
        fw_hal_write_byte(byte);
    }

    fn now_ticks(&mut self) -> u32 {
        fw_hal_now_ticks()
    }

    fn ticks_per_sec(&self) -> u32 {
        fw_hal_ticks_per_sec()
    }

    fn marker(&mut self, high: bool) {
        fw_hal_marker(high);
    }

    fn name(&self) -> &'static str {
        "c-hal"
    }

    fn emulated(&self) -> bool {
        false
    }
}

/// The engine, in `.bss` (all its initial bytes are zero).
static mut APP: App<CAPACITY> = App::new();

/// The engine, borrowed for one call from C.
fn app() -> &'static mut App<CAPACITY> {
    let app = &raw mut APP;
    // SAFETY: the C side calls fw_boot and fw_poll from one thread and never from an
    // interrupt handler, and neither call re-enters the other, so this is the only live
    // reference to APP for the duration of the call.
    unsafe { &mut *app }
}

/// Sends the `* boot` line; call once after reset.
#[unsafe(no_mangle)]
pub extern "C" fn fw_boot() {
    app().boot(&mut CHal);
}

/// Answers every request whose bytes have arrived; call from the main loop.
#[unsafe(no_mangle)]
pub extern "C" fn fw_poll() {
    app().poll(&mut CHal);
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // Nothing in the core panics on any input; if it did, the board stops answering and
    // the host times out.
    loop {}
}
