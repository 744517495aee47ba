//! The side and bottom panels: the plan editor (or the Models and training settings, on
//! their tabs) and the host/status bar.

pub mod activations;
pub mod models;
pub mod plan;
pub mod run;
pub mod status;
pub mod training;
