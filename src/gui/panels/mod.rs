//! The side and bottom panels: the plan editor and the host/status bar.

pub mod plan;
pub mod status;
