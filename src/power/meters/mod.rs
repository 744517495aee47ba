//! USB power meters read over a serial port, one folder or file per meter.

pub mod ppk2;
