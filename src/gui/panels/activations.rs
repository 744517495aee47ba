//! The activation checkboxes shared by the plan, the Models and the training panels: one per
//! kind of activation, with Leaky ReLU's alpha and Swish's beta beside their boxes.

use crate::kernels::{Activation, DEFAULT_LEAKY_ALPHA, GeluApproximation};

/// The kinds of activation offered, in report order, with their checkbox labels.
const KINDS: [(Kind, &str); 7] = [
    (Kind::Relu, "ReLU"),
    (Kind::LeakyRelu, "Leaky ReLU"),
    (Kind::Sigmoid, "Sigmoid"),
    (Kind::Tanh, "Tanh"),
    (Kind::GeluErf, "GELU (exact, erf)"),
    (Kind::GeluTanh, "GELU (tanh approximation)"),
    (Kind::Swish, "Swish / SiLU"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    GeluErf,
    GeluTanh,
    Swish,
}

impl Kind {
    fn of(activation: &Activation) -> Self {
        match activation {
            Activation::Relu => Kind::Relu,
            Activation::LeakyRelu { .. } => Kind::LeakyRelu,
            Activation::Sigmoid => Kind::Sigmoid,
            Activation::Tanh => Kind::Tanh,
            Activation::Gelu {
                approximation: GeluApproximation::Erf,
            } => Kind::GeluErf,
            Activation::Gelu {
                approximation: GeluApproximation::Tanh,
            } => Kind::GeluTanh,
            Activation::Swish { .. } => Kind::Swish,
        }
    }

    fn activation(self, alpha: f32, beta: f32) -> Activation {
        match self {
            Kind::Relu => Activation::Relu,
            Kind::LeakyRelu => Activation::LeakyRelu { alpha },
            Kind::Sigmoid => Activation::Sigmoid,
            Kind::Tanh => Activation::Tanh,
            Kind::GeluErf => Activation::Gelu {
                approximation: GeluApproximation::Erf,
            },
            Kind::GeluTanh => Activation::Gelu {
                approximation: GeluApproximation::Tanh,
            },
            Kind::Swish => Activation::Swish { beta },
        }
    }
}

/// The parameters of the parametric activations, kept while their boxes are unticked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationParams {
    /// Leaky ReLU's negative slope.
    pub alpha: f32,
    /// Swish's beta.
    pub beta: f32,
}

impl ActivationParams {
    /// The parameters of `activations`, or the defaults for kinds not among them.
    pub fn of(activations: &[Activation]) -> Self {
        let alpha = activations.iter().find_map(|activation| match activation {
            Activation::LeakyRelu { alpha } => Some(*alpha),
            _ => None,
        });
        let beta = activations.iter().find_map(|activation| match activation {
            Activation::Swish { beta } => Some(*beta),
            _ => None,
        });
        Self {
            alpha: alpha.unwrap_or(DEFAULT_LEAKY_ALPHA),
            beta: beta.unwrap_or(1.0),
        }
    }
}

/// A checkbox per kind of activation; ticking, unticking or editing a parameter updates
/// `activations` at once, in report order.
pub fn activations_ui(
    ui: &mut egui::Ui,
    activations: &mut Vec<Activation>,
    params: &mut ActivationParams,
) {
    let mut changed = false;
    for (kind, label) in KINDS {
        let mut checked = activations
            .iter()
            .any(|activation| Kind::of(activation) == kind);
        ui.horizontal(|ui| {
            changed |= ui.checkbox(&mut checked, label).changed();
            match kind {
                Kind::LeakyRelu => {
                    let name = ui.label("alpha");
                    let slope = egui::DragValue::new(&mut params.alpha)
                        .speed(0.001)
                        .range(-10.0..=10.0);
                    changed |= ui.add(slope).labelled_by(name.id).changed();
                }
                Kind::Swish => {
                    let name = ui.label("beta");
                    let drag = egui::DragValue::new(&mut params.beta)
                        .speed(0.01)
                        .range(0.01..=20.0);
                    changed |= ui.add(drag).labelled_by(name.id).changed();
                }
                _ => {}
            }
        });
        if changed {
            set_kind(activations, kind, checked, *params);
            changed = false;
        }
    }
}

/// Adds or removes `kind` and refreshes its parameters, keeping the report order of KINDS.
fn set_kind(activations: &mut Vec<Activation>, kind: Kind, on: bool, params: ActivationParams) {
    let mut wanted: Vec<Kind> = activations.iter().map(Kind::of).collect();
    wanted.retain(|&other| other != kind);
    if on {
        wanted.push(kind);
    }
    *activations = KINDS
        .iter()
        .filter(|(candidate, _)| wanted.contains(candidate))
        .map(|(candidate, _)| candidate.activation(params.alpha, params.beta))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggling_keeps_report_order_and_parameters() {
        let params = ActivationParams {
            alpha: 0.2,
            beta: 1.0,
        };
        let mut activations = vec![Activation::Tanh];
        set_kind(&mut activations, Kind::LeakyRelu, true, params);
        set_kind(&mut activations, Kind::Relu, true, params);
        assert_eq!(
            activations,
            [
                Activation::Relu,
                Activation::LeakyRelu { alpha: 0.2 },
                Activation::Tanh
            ]
        );
        set_kind(&mut activations, Kind::Tanh, false, params);
        assert_eq!(
            activations,
            [Activation::Relu, Activation::LeakyRelu { alpha: 0.2 }]
        );
        assert_eq!(ActivationParams::of(&activations), params);
    }
}
