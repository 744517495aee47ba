//! Reading and writing files for the app: CSV reports, baselines, profiles and chart
//! images.

use std::path::Path;
use std::sync::mpsc::{TryRecvError, sync_channel};

use crate::harness::Plan;
use crate::report::{self, Row};

use super::super::panels::plan::PlanEditor;
use super::super::png;
use super::super::views::heatmap::HeatmapData;
use super::super::views::heatmap_svg::heatmap_svg;
use super::{ActprofApp, Baseline, ResultsSource};

impl ActprofApp {
    /// Writes the kernel rows and then the model rows, one report in the CLI's schema.
    pub(super) fn export_csv(&mut self, path: &Path) {
        self.messages.report_notice = None;
        if self.rows.is_empty() && self.models.rows.is_empty() {
            self.messages.report_error = Some("nothing to export: run a plan first".to_owned());
            return;
        }
        let rows: Vec<Row> = self.rows.iter().chain(&self.models.rows).cloned().collect();
        match report::csv::write_file(path, &rows) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "report saved");
                self.messages.report_error = None;
                let models = match self.models.rows.len() {
                    0 => String::new(),
                    count => format!(" ({count} of them model rows)"),
                };
                self.messages.report_notice = Some(format!(
                    "Exported {} rows{models} to {}",
                    rows.len(),
                    path.display()
                ));
            }
            Err(error) => self.messages.report_error = Some(error.to_string()),
        }
    }

    /// Reads a report: its kernel rows replace the kernel results and its model rows the
    /// Models tab's; a report of one kind leaves the other kind's results alone.
    pub(super) fn open_csv(&mut self, path: &Path) {
        self.messages.report_notice = None;
        if self.is_busy() {
            self.messages.report_error =
                Some("a run is in progress: cancel it before opening a report".to_owned());
            return;
        }
        // A bad report leaves the current results untouched.
        match report::csv::read_file(path) {
            Ok(rows) => {
                self.messages.report_error = None;
                self.messages.report_notice = Some(format!(
                    "Opened {} rows from {}",
                    rows.len(),
                    path.display()
                ));
                let (model_rows, kernel_rows): (Vec<Row>, Vec<Row>) =
                    rows.into_iter().partition(|row| row.model.is_some());
                let only_models = kernel_rows.is_empty() && !model_rows.is_empty();
                if !model_rows.is_empty() {
                    self.models.rows = model_rows;
                    self.models.source = ResultsSource::File(path.to_owned());
                }
                if !only_models {
                    self.rows = kernel_rows;
                    self.source = ResultsSource::File(path.to_owned());
                }
            }
            Err(error) => self.messages.report_error = Some(error.to_string()),
        }
    }

    pub(super) fn load_baseline(&mut self, path: &Path) {
        match report::csv::read_file(path) {
            Ok(rows) => {
                self.messages.baseline_error = None;
                self.baseline = Some(Baseline {
                    path: path.to_owned(),
                    rows,
                });
            }
            Err(error) => self.messages.baseline_error = Some(error.to_string()),
        }
    }

    pub(super) fn load_profile(&mut self, path: &Path) {
        self.messages.profile_notice = None;
        match Plan::from_toml_file(path) {
            Ok(plan) => {
                self.plan_editor = PlanEditor::from_plan(&plan);
                self.state.plan = plan;
                self.messages.plan_error = None;
                self.messages.profile_notice = Some(format!("Loaded {}", path.display()));
            }
            Err(error) => self.messages.plan_error = Some(error.to_string()),
        }
    }

    pub(super) fn save_profile(&mut self, path: &Path) {
        self.messages.profile_notice = None;
        let written = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, self.state.plan.to_toml()));
        match written {
            Ok(()) => {
                tracing::info!(path = %path.display(), "profile saved");
                self.messages.plan_error = None;
                self.messages.profile_notice = Some(format!("Saved {}", path.display()));
            }
            Err(error) => {
                self.messages.plan_error = Some(format!(
                    "cannot save the profile: {error} ({})",
                    path.display()
                ));
            }
        }
    }

    pub(super) fn export_png(&mut self, ctx: &egui::Context, path: &Path) {
        self.messages.chart_notice = None;
        let Some(rect) = self.chart_rect else {
            self.messages.chart_error = Some("no chart on display to export".to_owned());
            return;
        };
        let (sender, receiver) = sync_channel(1);
        let path = path.to_owned();
        let pixels_per_point = ctx.pixels_per_point();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            let saved = png::save_region(&image, rect, pixels_per_point, &path).map(|()| path);
            // The app may be gone by now; then nobody needs the answer.
            let _ = sender.send(saved);
            repaint.request_repaint();
        });
        self.png_result = Some(receiver);
    }

    pub(super) fn export_svg(&mut self, path: &Path) {
        self.messages.chart_notice = None;
        let Some(data) = HeatmapData::of(&self.rows, self.state.metric) else {
            self.messages.chart_error = Some("no heatmap values to export".to_owned());
            return;
        };
        match std::fs::write(path, heatmap_svg(&data)) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "heatmap saved");
                self.messages.chart_error = None;
                self.messages.chart_notice = Some(format!("Saved heatmap to {}", path.display()));
            }
            Err(error) => {
                self.messages.chart_error = Some(format!(
                    "cannot write the SVG: {error} ({})",
                    path.display()
                ));
            }
        }
    }

    pub(super) fn poll_png(&mut self) {
        let Some(receiver) = &self.png_result else {
            return;
        };
        let result = match receiver.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err("the screenshot never arrived".to_owned()),
        };
        self.png_result = None;
        match result {
            Ok(path) => {
                tracing::info!(path = %path.display(), "chart saved");
                self.messages.chart_error = None;
                self.messages.chart_notice = Some(format!("Saved chart to {}", path.display()));
            }
            Err(error) => self.messages.chart_error = Some(error),
        }
    }
}
