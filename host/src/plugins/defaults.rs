//! The built-in plugins, compiled from `plugins/` by the build and embedded in the binary.
//! Every tenant uses them until it activates its own.

use super::Slot;

include!(concat!(env!("OUT_DIR"), "/default_plugins.rs"));

/// The built-in component for a slot.
pub fn component(slot: Slot) -> &'static [u8] {
    DEFAULT_PLUGINS
        .iter()
        .find(|(name, _)| *name == slot.as_str())
        .map(|(_, bytes)| *bytes)
        .unwrap_or_default()
}
