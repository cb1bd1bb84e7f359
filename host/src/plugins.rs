//! The plugin runtime: tenant WebAssembly components for four slots, run in a sandbox.
//!
//! Architecture Invariant: a plugin call never outlives its fuel and deadline, never sees
//! the host's files, network or environment, and its failure is a typed [`PluginError`],
//! never a host crash.

mod admission;
pub mod bindings;
pub mod defaults;
pub mod fixtures;
mod json_len;
mod json_size;
pub mod runtime;
mod sandbox;
pub mod validate;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod model;
pub mod registry;

pub use runtime::{CallSpec, Compiled, PluginRuntime};

/// The WIT package every slot world belongs to.
pub const WIT_PACKAGE: &str = "caravan:plugins";
/// The WIT version this host implements.
pub const WIT_VERSION: &str = "1.0.0";

/// A customisable step of the enquiry-to-quote pipeline; each has its own WIT world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Slot {
    EmailParser,
    QuoteRules,
    Pricing,
    PdfTemplate,
}

impl Slot {
    pub const ALL: [Slot; 4] = [
        Slot::EmailParser,
        Slot::QuoteRules,
        Slot::Pricing,
        Slot::PdfTemplate,
    ];

    /// The slot's name in URLs and the WIT world's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailParser => "email-parser",
            Self::QuoteRules => "quote-rules",
            Self::Pricing => "pricing",
            Self::PdfTemplate => "pdf-template",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The interface the slot's world exports.
    pub fn export_interface(self) -> &'static str {
        match self {
            Self::EmailParser => "parser",
            Self::QuoteRules => "rules",
            Self::Pricing => "pricer",
            Self::PdfTemplate => "template",
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resource caps of one plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// WebAssembly instructions (fuel units).
    pub fuel: u64,
    /// Wall-clock deadline in milliseconds.
    pub deadline_ms: u64,
    /// Linear memory in bytes.
    pub memory_bytes: u64,
    /// Serialized input size in bytes.
    pub input_bytes: u64,
    /// Serialized output size in bytes.
    pub output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 11_000_000,
            deadline_ms: 100,
            memory_bytes: 32 * 1024 * 1024,
            input_bytes: 128 * 1024,
            output_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// The most a tenant may be granted: the sandbox's pool is sized for these.
    pub const PLATFORM_MAX: Limits = Limits {
        fuel: 200_000_000,
        deadline_ms: 2_000,
        memory_bytes: 64 * 1024 * 1024,
        input_bytes: 1024 * 1024,
        output_bytes: 1024 * 1024,
    };

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// Names every field above the platform maximum or zero.
    pub fn violations(&self) -> Vec<String> {
        let max = Self::PLATFORM_MAX;
        let mut out = Vec::new();
        let mut check = |name: &str, value: u64, max: u64| {
            if value == 0 || value > max {
                out.push(format!("{name} must be between 1 and {max}"));
            }
        };
        check("fuel", self.fuel, max.fuel);
        check("deadline_ms", self.deadline_ms, max.deadline_ms);
        check("memory_bytes", self.memory_bytes, max.memory_bytes);
        check("input_bytes", self.input_bytes, max.input_bytes);
        check("output_bytes", self.output_bytes, max.output_bytes);
        out
    }
}

/// What happens when a tenant's plugin fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// The operation fails with the plugin's error.
    #[default]
    FailClosed,
    /// The built-in plugin runs instead, and the fallback is recorded.
    FallbackDefault,
}

/// How a plugin call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginErrorKind {
    /// The guest trapped (a panic, `unreachable`, a stack overflow, a host-side fault).
    Trap,
    /// The call used up its instruction budget.
    OutOfFuel,
    /// The call ran past its wall-clock deadline.
    Deadline,
    /// The guest tried to grow memory beyond its cap.
    Memory,
    /// The input exceeded the slot's input cap (the plugin was not called).
    InputTooLarge,
    /// The result exceeded the output cap.
    OutputTooLarge,
    /// The result broke the slot's rules (negative amounts, unknown currency, bad dates).
    InvalidOutput,
    /// The plugin returned its own error.
    PluginError,
    /// The component could not be loaded or does not implement the slot's world.
    Incompatible,
}

impl PluginErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trap => "trap",
            Self::OutOfFuel => "out_of_fuel",
            Self::Deadline => "deadline",
            Self::Memory => "memory",
            Self::InputTooLarge => "input_too_large",
            Self::OutputTooLarge => "output_too_large",
            Self::InvalidOutput => "invalid_output",
            Self::PluginError => "plugin_error",
            Self::Incompatible => "incompatible",
        }
    }
}

/// A failed plugin call: what kind of failure, and a message for the tenant's integrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}: {message}", kind.as_str())]
pub struct PluginError {
    pub kind: PluginErrorKind,
    pub message: String,
    /// The plugin's own error code, for `plugin_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What the call cost up to its failure; `None` when it never ran (its input was over
    /// the cap, or no instance slot came free). Reported beside the error, not inside it.
    #[serde(skip)]
    pub stats: Option<CallStats>,
}

impl PluginError {
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            code: None,
            stats: None,
        }
    }

    /// The same failure, with what the call cost until it failed.
    pub fn with_stats(self, stats: CallStats) -> Self {
        Self {
            stats: Some(stats),
            ..self
        }
    }

    pub fn invalid_output(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::InvalidOutput, message)
    }
}

/// Refuses a call's input or output of `size` bytes (its JSON length) over `cap`.
fn size_cap(kind: PluginErrorKind, what: &str, size: usize, cap: u64) -> Result<(), PluginError> {
    if size as u64 > cap {
        return Err(PluginError::new(
            kind,
            format!("{what} of {size} bytes exceeds the {cap} byte cap"),
        ));
    }
    Ok(())
}

/// What a call cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallStats {
    pub fuel_used: u64,
    pub wall_us: u64,
    /// Largest linear memory the call reached, in bytes.
    pub peak_memory_bytes: u64,
}
