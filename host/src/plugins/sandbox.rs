//! The state each plugin call runs with: a WASI context that grants nothing, the memory
//! limiter, and the host functions (`log`, `config-get`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{documents, email, host, quoting, types};
use super::{Limits, Slot};

/// Longest log message kept, in bytes.
const LOG_MESSAGE_MAX: usize = 4096;
/// Log lines kept per call.
const LOG_LINES_MAX: u32 = 100;
/// Bytes of the guest's stderr kept (a panic message lands there).
const STDERR_MAX: usize = 4096;

/// Who is calling, for log lines written by the plugin.
#[derive(Debug, Clone)]
pub struct CallLabel {
    pub tenant_id: String,
    pub slot: Slot,
    pub version: String,
}

/// Caps the call's linear memories together and its tables, and remembers whether the guest
/// hit the memory cap (the guest usually aborts right after, which would otherwise look like
/// any other trap).
#[derive(Debug)]
pub struct Limiter {
    memory_cap: usize,
    /// Bytes of every memory of the call together; a component with two memories shares one
    /// cap between them rather than getting it twice.
    memory_total: usize,
    pub memory_denied: bool,
    pub peak_memory: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A memory's creation is a growth from 0, so `total` counts every memory. A growth
        // that fails after this approval (the OS refusing pages; the pool's slots are as large
        // as the platform's memory maximum, so nothing else can) stays counted: the limiter
        // lives for one call, and erring towards the cap is the safe side.
        let total = self.memory_total + desired.saturating_sub(current);
        if total > self.memory_cap {
            self.memory_denied = true;
            return Ok(false);
        }
        self.memory_total = total;
        self.peak_memory = self.peak_memory.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Everything a plugin call's `Store` holds.
pub struct PluginState {
    /// Built on the call's first WASI call: most calls make none (a plugin reaches WASI only
    /// to write to stderr, read the clock or draw random bytes), and building the context
    /// (random generators, clocks, streams) for each call cost 0.1–0.6 µs of a pricing call.
    /// The pipe is where that context sends the guest's stderr.
    wasi: Option<(WasiCtx, MemoryOutputPipe)>,
    table: ResourceTable,
    pub limiter: Limiter,
    config: Arc<HashMap<String, String>>,
    label: CallLabel,
    log_lines: u32,
    /// When the call began (the deadline counts from here).
    pub started: Instant,
}

impl PluginState {
    /// A state with no ambient capability: no preopened directories, no sockets, no
    /// environment variables, no arguments, stdin empty, stdout discarded and stderr kept in
    /// memory (bounded) so a panic message can be reported.
    pub fn new(limits: &Limits, config: Arc<HashMap<String, String>>, label: CallLabel) -> Self {
        Self {
            wasi: None,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_cap: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
                memory_total: 0,
                memory_denied: false,
                peak_memory: 0,
            },
            config,
            label,
            log_lines: 0,
            started: Instant::now(),
        }
    }

    /// What the guest wrote to stderr, lossily decoded and trimmed; empty when it wrote
    /// nothing.
    pub fn stderr(&self) -> String {
        self.wasi
            .as_ref()
            .map(|(_, pipe)| String::from_utf8_lossy(&pipe.contents()).trim().to_owned())
            .unwrap_or_default()
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let (ctx, _) = self.wasi.get_or_insert_with(|| {
            let pipe = MemoryOutputPipe::new(STDERR_MAX);
            let ctx = WasiCtxBuilder::new()
                .stderr(pipe.clone())
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build();
            (ctx, pipe)
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

impl types::Host for PluginState {}
impl email::Host for PluginState {}
impl quoting::Host for PluginState {}
impl documents::Host for PluginState {}

impl host::Host for PluginState {
    fn log(&mut self, level: types::LogLevel, message: String) {
        self.log_lines += 1;
        if self.log_lines > LOG_LINES_MAX {
            return;
        }
        let mut message = message;
        if message.len() > LOG_MESSAGE_MAX {
            let mut cut = LOG_MESSAGE_MAX;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let CallLabel {
            tenant_id,
            slot,
            version,
        } = &self.label;
        let slot = slot.as_str();
        match level {
            types::LogLevel::Trace => {
                tracing::trace!(target: "plugin", tenant_id, slot, version, "{message}");
            }
            types::LogLevel::Debug => {
                tracing::debug!(target: "plugin", tenant_id, slot, version, "{message}");
            }
            types::LogLevel::Info => {
                tracing::info!(target: "plugin", tenant_id, slot, version, "{message}");
            }
            types::LogLevel::Warn => {
                tracing::warn!(target: "plugin", tenant_id, slot, version, "{message}");
            }
            types::LogLevel::Error => {
                tracing::error!(target: "plugin", tenant_id, slot, version, "{message}");
            }
        }
    }

    fn config_get(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(cap: usize) -> Limiter {
        Limiter {
            memory_cap: cap,
            memory_total: 0,
            memory_denied: false,
            peak_memory: 0,
        }
    }

    #[test]
    fn the_memory_cap_is_shared_by_every_memory_of_a_call() {
        let mut l = limiter(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        // A second memory gets what the first left, not a cap of its own.
        assert!(!l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_denied);
        assert!(l.memory_growing(0, 40, None).unwrap());
        assert_eq!(l.peak_memory, 100);
        // Growing the first memory counts only the growth.
        assert!(!l.memory_growing(60, 61, None).unwrap());
    }

    #[test]
    fn one_memory_may_grow_up_to_the_cap() {
        let mut l = limiter(100);
        assert!(l.memory_growing(0, 10, None).unwrap());
        assert!(l.memory_growing(10, 100, None).unwrap());
        assert!(!l.memory_denied);
        assert!(!l.memory_growing(100, 101, None).unwrap());
        assert_eq!(l.peak_memory, 100);
    }
}
