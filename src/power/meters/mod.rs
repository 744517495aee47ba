//! Power meters on serial ports.

pub mod line;
pub mod scpi;
pub mod text;
