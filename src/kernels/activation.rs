//! The activation set as data: which function, with which parameters.
//!
//! Every activation has a stable name used on the command line, in CSV reports and in the
//! GUI (`relu`, `leaky_relu`, `sigmoid`, `tanh`, `gelu`, `gelu_tanh`, `silu`, `swish`) and
//! its parameters written as `alpha=0.01` or `beta=1`. A full specification joins the two
//! with a colon: `leaky_relu:alpha=0.2`, `swish:beta=1.5`. [`Activation::spec`] writes that
//! form and [`str::parse`] reads it back, so a report names exactly what was measured.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The negative-side slope used when none is given (PyTorch's and TFLite's default).
pub const DEFAULT_LEAKY_ALPHA: f32 = 0.01;

/// How GELU is evaluated: the exact `x·Φ(x)` or the tanh approximation of Hendrycks & Gimpel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeluApproximation {
    /// `x·Φ(x) = 0.5·x·(1 + erf(x/√2))`.
    Erf,
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    Tanh,
}

/// One activation function with its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)`; NaN stays NaN and `relu(-0.0)` is `+0.0`.
    Relu,
    /// `x if x > 0 else alpha·x`, for any alpha (also above 1 and below 0).
    LeakyRelu { alpha: f32 },
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// Gaussian error linear unit.
    Gelu { approximation: GeluApproximation },
    /// `x·sigmoid(beta·x)`; SiLU is `beta = 1`.
    Swish { beta: f32 },
}

impl Activation {
    /// The seven activations measured by default, in report order.
    pub const DEFAULT_SET: [Activation; 7] = [
        Activation::Relu,
        Activation::LeakyRelu {
            alpha: DEFAULT_LEAKY_ALPHA,
        },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu {
            approximation: GeluApproximation::Erf,
        },
        Activation::Gelu {
            approximation: GeluApproximation::Tanh,
        },
        Activation::Swish { beta: 1.0 },
    ];

    /// The stable name: `relu`, `leaky_relu`, `sigmoid`, `tanh`, `gelu`, `gelu_tanh`,
    /// `silu` (Swish with beta = 1) or `swish`.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Gelu {
                approximation: GeluApproximation::Erf,
            } => "gelu",
            Activation::Gelu {
                approximation: GeluApproximation::Tanh,
            } => "gelu_tanh",
            Activation::Swish { beta } if *beta == 1.0 => "silu",
            Activation::Swish { .. } => "swish",
        }
    }

    /// The parameters as `key=value` pairs joined by `;`, empty when there are none.
    ///
    /// Numbers use Rust's shortest round-trip form, so parsing gives back the same bits.
    pub fn params(&self) -> String {
        match self {
            Activation::LeakyRelu { alpha } => format!("alpha={alpha}"),
            Activation::Swish { beta } if *beta != 1.0 => format!("beta={beta}"),
            Activation::Swish { .. } => "beta=1".to_owned(),
            _ => String::new(),
        }
    }

    /// Name and parameters in one string (`leaky_relu:alpha=0.01`), the form [`FromStr`]
    /// reads.
    pub fn spec(&self) -> String {
        match self {
            Activation::Swish { beta } if *beta == 1.0 => self.name().to_owned(),
            _ if self.params().is_empty() => self.name().to_owned(),
            _ => format!("{}:{}", self.name(), self.params()),
        }
    }

    /// Builds an activation from its name and a `params` string as [`Activation::params`]
    /// writes it (an empty string takes the defaults).
    pub fn from_name_and_params(name: &str, params: &str) -> Result<Self, ParseActivationError> {
        let mut alpha = None;
        let mut beta = None;
        for pair in params.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| ParseActivationError::BadParam(pair.to_owned()))?;
            let value: f32 = value
                .trim()
                .parse()
                .map_err(|_| ParseActivationError::BadParam(pair.to_owned()))?;
            if !value.is_finite() {
                return Err(ParseActivationError::BadParam(pair.to_owned()));
            }
            match key.trim() {
                "alpha" => alpha = Some(value),
                "beta" => beta = Some(value),
                other => return Err(ParseActivationError::UnknownParam(other.to_owned())),
            }
        }
        let refuse = |param: &str| ParseActivationError::ParamNotAccepted {
            activation: name.to_owned(),
            param: param.to_owned(),
        };
        let activation = match name.trim() {
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu {
                alpha: alpha.unwrap_or(DEFAULT_LEAKY_ALPHA),
            },
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "gelu" | "gelu_erf" => Activation::Gelu {
                approximation: GeluApproximation::Erf,
            },
            "gelu_tanh" => Activation::Gelu {
                approximation: GeluApproximation::Tanh,
            },
            "silu" => {
                if beta.is_some_and(|b| b != 1.0) {
                    return Err(refuse("beta other than 1 (use swish)"));
                }
                Activation::Swish { beta: 1.0 }
            }
            "swish" => Activation::Swish {
                beta: beta.unwrap_or(1.0),
            },
            other => return Err(ParseActivationError::UnknownName(other.to_owned())),
        };
        if alpha.is_some() && !matches!(activation, Activation::LeakyRelu { .. }) {
            return Err(refuse("alpha"));
        }
        if beta.is_some() && !matches!(activation, Activation::Swish { .. }) {
            return Err(refuse("beta"));
        }
        Ok(activation)
    }

    /// Whether the function is piecewise linear (ReLU family): exact in f32, memory-bound.
    pub fn is_piecewise_linear(&self) -> bool {
        matches!(self, Activation::Relu | Activation::LeakyRelu { .. })
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

impl FromStr for Activation {
    type Err = ParseActivationError;

    /// Reads `name` or `name:key=value[;key=value]`, e.g. `leaky_relu:alpha=0.2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, params) = s.split_once(':').unwrap_or((s, ""));
        Activation::from_name_and_params(name, params)
    }
}

/// Why an activation name or parameter string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseActivationError {
    #[error(
        "unknown activation `{0}` (expected relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh, \
         silu or swish)"
    )]
    UnknownName(String),
    #[error("unknown parameter `{0}` (expected alpha or beta)")]
    UnknownParam(String),
    #[error("bad parameter `{0}` (expected key=finite number, e.g. alpha=0.01)")]
    BadParam(String),
    #[error("{activation} takes no parameter {param}")]
    ParamNotAccepted { activation: String, param: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_names_are_the_documented_ones() {
        let names: Vec<_> = Activation::DEFAULT_SET
            .iter()
            .map(Activation::name)
            .collect();
        assert_eq!(
            names,
            [
                "relu",
                "leaky_relu",
                "sigmoid",
                "tanh",
                "gelu",
                "gelu_tanh",
                "silu"
            ]
        );
    }

    #[test]
    fn spec_round_trips_through_parse() {
        let extra = [
            Activation::LeakyRelu { alpha: 1.5 },
            Activation::LeakyRelu { alpha: -0.25 },
            Activation::Swish { beta: 1.702 },
        ];
        for act in Activation::DEFAULT_SET.iter().chain(extra.iter()) {
            let parsed: Activation = act.spec().parse().expect("own spec parses");
            assert_eq!(parsed, *act, "spec {}", act.spec());
            let from_parts = Activation::from_name_and_params(act.name(), &act.params())
                .expect("own name and params parse");
            assert_eq!(from_parts, *act);
        }
    }

    #[test]
    fn params_are_written_as_documented() {
        assert_eq!(Activation::LeakyRelu { alpha: 0.01 }.params(), "alpha=0.01");
        assert_eq!(Activation::Swish { beta: 1.0 }.params(), "beta=1");
        assert_eq!(Activation::Swish { beta: 2.0 }.spec(), "swish:beta=2");
        assert_eq!(Activation::Relu.params(), "");
    }

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        assert!(matches!(
            "elu".parse::<Activation>(),
            Err(ParseActivationError::UnknownName(_))
        ));
        assert!(matches!(
            "relu:alpha=0.1".parse::<Activation>(),
            Err(ParseActivationError::ParamNotAccepted { .. })
        ));
        assert!(matches!(
            "leaky_relu:alpha=x".parse::<Activation>(),
            Err(ParseActivationError::BadParam(_))
        ));
        assert!(matches!(
            "leaky_relu:alpha=NaN".parse::<Activation>(),
            Err(ParseActivationError::BadParam(_))
        ));
        assert!(matches!(
            "swish:gamma=1".parse::<Activation>(),
            Err(ParseActivationError::UnknownParam(_))
        ));
    }
}
