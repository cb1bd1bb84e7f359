//! One wasmtime engine for every tenant: compiled components cached by content hash, a fresh
//! `Store` per call from a cached `InstancePre`, and the limits applied to each call.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use super::admission::{Admission, ShareKey};
use super::bindings::{self, documents, email, quoting, types};
use super::json_len::JsonLen;
use super::json_size::json_size;
use super::sandbox::{CallLabel, PluginState};
use super::validate;
use super::{
    CallStats, Limits, PluginError, PluginErrorKind, Slot, WIT_PACKAGE, WIT_VERSION, size_cap,
};

pub use super::admission::{MAX_CONCURRENT_CALLS, TENANT_SHARE};

/// How often the engine's epoch advances; deadlines are rounded up to it.
const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Distinct compiled components the cache keeps without pruning (about 1.1 MiB each for a
/// Rust plugin). Past it, compilations idle for [`COMPILED_IDLE`] that no call or resolution
/// holds are dropped, except the built-ins.
pub const COMPILED_KEPT: usize = 256;
/// How long a compilation must have gone unused before a full cache may drop it: a component
/// in use is never compiled twice, whatever other tenants upload.
const COMPILED_IDLE: Duration = Duration::from_secs(600);

/// Core module instances one component may create. The built-in Rust components have three
/// (their code, and the shim and fixup modules that wire its imports), one memory and two
/// tables; toolchains that link a runtime in pieces need more.
pub const MAX_CORE_INSTANCES_PER_CALL: u32 = 16;
/// Linear memories one component may define; their sizes together are capped by the call's
/// memory limit.
pub const MAX_MEMORIES_PER_CALL: u32 = 2;
/// Tables one component may define.
pub const MAX_TABLES_PER_CALL: u32 = 16;

/// A compilation in the cache, with when it was last asked for.
struct Cached {
    compiled: Arc<Compiled>,
    used: std::time::Instant,
}

/// Who calls, with which limits and which configuration.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub tenant_id: String,
    /// Version label for logs (`default` for a built-in plugin).
    pub version: String,
    pub limits: Limits,
    /// The tenant's configuration for the slot: key → JSON text.
    pub config: Arc<HashMap<String, String>>,
    /// Started by an administrator (a dry-run, an upload's conformance fixtures): counted
    /// against the tenant's separate administrative share of the instance slots, so that a
    /// fix can be tried and uploaded while the tenant's own calls are stuck.
    pub admin: bool,
}

impl CallSpec {
    /// A call with default limits and no configuration.
    pub fn new(tenant_id: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            version: version.into(),
            limits: Limits::default(),
            config: Arc::new(HashMap::new()),
            admin: false,
        }
    }

    /// Whose share of the instance slots the call counts against; `None` for a built-in
    /// plugin, which is trusted, quick, and what a stuck tenant falls back to.
    fn share(&self, compiled: &Compiled) -> Option<ShareKey<'_>> {
        (!compiled.builtin).then_some(ShareKey {
            tenant_id: &self.tenant_id,
            admin: self.admin,
        })
    }
}

/// The slot-specific pre-instantiated form of a component.
enum SlotPre {
    EmailParser(bindings::email_parser::EmailParserPre<PluginState>),
    QuoteRules(bindings::quote_rules::QuoteRulesPre<PluginState>),
    Pricing(bindings::pricing::PricingPre<PluginState>),
    PdfTemplate(bindings::pdf_template::PdfTemplatePre<PluginState>),
}

/// A component compiled and checked against one slot's world.
pub struct Compiled {
    pub sha256: String,
    pub slot: Slot,
    pub size: usize,
    /// The `caravan:plugins` version the component was built against.
    pub wit_version: String,
    /// One of the built-in components embedded in this binary.
    pub builtin: bool,
    pre: SlotPre,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("sha256", &self.sha256)
            .field("slot", &self.slot)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Advances the engine's epoch until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .map(drop)
            .unwrap_or_else(
                |e| tracing::error!(error = %e, "cannot start the plugin epoch ticker"),
            );
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<PluginState>,
    compiled: Mutex<HashMap<(String, Slot), Cached>>,
    /// Who may take an instance slot now: one per slot, a share per tenant.
    admission: Admission,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime").finish_non_exhaustive()
    }
}

/// The sha256 of a component, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl PluginRuntime {
    /// The engine: pooling allocator with copy-on-write memory images, fuel and epochs.
    pub fn new() -> anyhow::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        // Per-component caps are checked when a component is compiled (so an upload past them
        // is refused), and the totals are one call's worth per slot: a tenant within its share
        // of the slots can never hold more than that share of memories, tables or instances.
        pool.max_core_instances_per_component(MAX_CORE_INSTANCES_PER_CALL)
            .max_memories_per_component(MAX_MEMORIES_PER_CALL)
            .max_tables_per_component(MAX_TABLES_PER_CALL)
            .total_component_instances(MAX_CONCURRENT_CALLS)
            .total_core_instances(MAX_CONCURRENT_CALLS * MAX_CORE_INSTANCES_PER_CALL)
            .total_memories(MAX_CONCURRENT_CALLS * MAX_MEMORIES_PER_CALL)
            .total_tables(MAX_CONCURRENT_CALLS * MAX_TABLES_PER_CALL)
            .total_stacks(MAX_CONCURRENT_CALLS)
            .max_memory_size(Limits::PLATFORM_MAX.memory_bytes as usize)
            // A slot's pages stay mapped between calls and only the pages a call dirtied are
            // reset to the image (found with Linux's PAGEMAP_SCAN where the kernel has it),
            // instead of unmapping everything and taking a page fault per page on the next
            // call: this halves the cost of an empty call. Memory past 2 MiB is still
            // released to the kernel.
            .linear_memory_keep_resident(2 << 20)
            .table_keep_resident(64 << 10)
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .memory_init_cow(true)
            .max_wasm_stack(512 * 1024)
            // Each memory slot reserves the whole 4 GiB a 32-bit memory can address (plus the
            // default guard), so compiled code needs no bounds check on loads and stores: a
            // stray access faults in the guard instead. Only address space is reserved (about
            // half a terabyte per engine, of the 128 TiB a process has); plugin calls took
            // about a tenth less time than with explicit checks against a 32 MiB reservation.
            .memory_reservation(1 << 32)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        bindings::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        Ok(Self {
            _ticker: EpochTicker::start(engine.clone()),
            admission: Admission::default(),
            engine,
            linker,
            compiled: Mutex::new(HashMap::new()),
        })
    }

    /// Compiles `bytes` for `slot`, or returns the cached compilation of the same content.
    /// Fails with `Incompatible` and a reason when the bytes are not a component that
    /// implements exactly the slot's world.
    pub fn compile(&self, slot: Slot, bytes: &[u8]) -> Result<Arc<Compiled>, PluginError> {
        let sha256 = sha256_hex(bytes);
        if let Some(found) = self.cached(&sha256, slot) {
            return Ok(found);
        }
        check_header(bytes)?;
        let component = Component::new(&self.engine, bytes).map_err(|e| {
            incompatible(format!(
                "the component does not compile: {}",
                root_cause(&e)
            ))
        })?;
        let wit_version = self.check_exports(slot, &component)?;
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|e| {
            incompatible(format!(
                "the component imports something the {slot} sandbox does not provide: {}",
                root_cause(&e)
            ))
        })?;
        let wrong_world = |e: wasmtime::Error| {
            incompatible(format!(
                "the component does not implement the {slot} world: {}",
                root_cause(&e)
            ))
        };
        let pre = match slot {
            Slot::EmailParser => SlotPre::EmailParser(
                bindings::email_parser::EmailParserPre::new(instance_pre).map_err(wrong_world)?,
            ),
            Slot::QuoteRules => SlotPre::QuoteRules(
                bindings::quote_rules::QuoteRulesPre::new(instance_pre).map_err(wrong_world)?,
            ),
            Slot::Pricing => SlotPre::Pricing(
                bindings::pricing::PricingPre::new(instance_pre).map_err(wrong_world)?,
            ),
            Slot::PdfTemplate => SlotPre::PdfTemplate(
                bindings::pdf_template::PdfTemplatePre::new(instance_pre).map_err(wrong_world)?,
            ),
        };
        let compiled = Arc::new(Compiled {
            builtin: default_digests().contains(&sha256),
            sha256: sha256.clone(),
            slot,
            size: bytes.len(),
            wit_version,
            pre,
        });
        let mut cache = self.cache();
        if cache.len() >= COMPILED_KEPT {
            // Nothing is lost: a stored version missing from the cache is compiled again
            // from object storage when next resolved.
            cache.retain(|_, c| {
                c.compiled.builtin
                    || Arc::strong_count(&c.compiled) > 1
                    || c.used.elapsed() < COMPILED_IDLE
            });
        }
        cache.insert(
            (sha256, slot),
            Cached {
                compiled: compiled.clone(),
                used: std::time::Instant::now(),
            },
        );
        Ok(compiled)
    }

    /// Drops `compiled` from the cache unless something else holds it, so an upload that
    /// fails validation leaves no compiled code behind.
    pub fn forget(&self, compiled: Arc<Compiled>) {
        let key = (compiled.sha256.clone(), compiled.slot);
        let mut cache = self.cache();
        // The cache's reference and `compiled` itself: nobody else uses it.
        let unused = cache.get(&key).is_some_and(|c| {
            Arc::ptr_eq(&c.compiled, &compiled) && Arc::strong_count(&c.compiled) == 2
        });
        if unused {
            cache.remove(&key);
        }
    }

    /// The compilation of a component already seen, by content hash.
    pub fn cached(&self, sha256: &str, slot: Slot) -> Option<Arc<Compiled>> {
        let mut cache = self.cache();
        let found = cache.get_mut(&(sha256.to_owned(), slot))?;
        found.used = std::time::Instant::now();
        Some(found.compiled.clone())
    }

    /// Number of distinct compiled (component, slot) pairs held.
    pub fn compiled_count(&self) -> usize {
        self.cache().len()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Slot), Cached>> {
        self.compiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Finds the slot's export and reads the WIT version from its name; a component that
    /// exports another slot's interface gets a message naming what it does export.
    fn check_exports(&self, slot: Slot, component: &Component) -> Result<String, PluginError> {
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let wanted = format!("{WIT_PACKAGE}/{}@", slot.export_interface());
        let Some(name) = exports.iter().find(|n| n.starts_with(&wanted)) else {
            return Err(incompatible(format!(
                "the {slot} slot needs a component exporting {WIT_PACKAGE}/{}@{WIT_VERSION}; \
                 this one exports [{}]",
                slot.export_interface(),
                exports.join(", ")
            )));
        };
        // Exactly the slot's world: anything else exported is another contract, not this one.
        if exports.len() != 1 {
            return Err(incompatible(format!(
                "the {slot} world exports only {name}; this component also exports [{}]",
                exports
                    .iter()
                    .filter(|e| *e != name)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let version = name[wanted.len()..].to_owned();
        let major = |v: &str| v.split('.').next().unwrap_or_default().to_owned();
        if major(&version) != major(WIT_VERSION) {
            return Err(incompatible(format!(
                "the component targets {WIT_PACKAGE}@{version}; this host implements {WIT_VERSION}"
            )));
        }
        Ok(version)
    }

    /// A fresh store for one call, with the spec's limits applied.
    ///
    /// Deadlines are enforced twice: the epoch callback interrupts guest code once the
    /// deadline has passed (yielding to the executor every tick until then, so a busy plugin
    /// never holds a worker thread), and [`within_deadline`] drops a call stuck in a host
    /// function such as a WASI sleep.
    fn store(
        &self,
        compiled: &Compiled,
        spec: &CallSpec,
    ) -> Result<Store<PluginState>, PluginError> {
        let limits = spec.limits;
        let label = CallLabel {
            tenant_id: spec.tenant_id.clone(),
            slot: compiled.slot,
            version: spec.version.clone(),
        };
        let mut store = Store::new(
            &self.engine,
            PluginState::new(&limits, spec.config.clone(), label),
        );
        store.limiter(|s| &mut s.limiter);
        store
            .set_fuel(limits.fuel)
            .map_err(|e| PluginError::new(PluginErrorKind::Trap, e.to_string()))?;
        let deadline = limits.deadline();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |ctx| {
            Ok(if ctx.data().started.elapsed() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        Ok(store)
    }

    /// The outcome of a call, with its cost, or the kind of failure it was.
    fn finish<T>(
        store: &Store<PluginState>,
        outcome: wasmtime::Result<Result<T, types::PluginError>>,
        limits: &Limits,
    ) -> Result<(T, CallStats), PluginError> {
        let stats = CallStats {
            fuel_used: limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
            wall_us: store.data().started.elapsed().as_micros() as u64,
            peak_memory_bytes: store.data().limiter.peak_memory as u64,
        };
        match outcome {
            Ok(Ok(value)) => Ok((value, stats)),
            Ok(Err(e)) => Err(PluginError {
                kind: PluginErrorKind::PluginError,
                message: e.message,
                code: Some(e.code),
                stats: Some(stats),
            }),
            Err(err) => Err(classify_trap(&err, store, limits).with_stats(stats)),
        }
    }

    /// Checks an output's size, its JSON length, against the cap.
    fn output_cap(size: usize, limits: &Limits) -> Result<(), PluginError> {
        size_cap(
            PluginErrorKind::OutputTooLarge,
            "output",
            size,
            limits.output_bytes,
        )
    }

    /// Runs an email parser.
    pub async fn parse_email(
        &self,
        compiled: &Compiled,
        spec: &CallSpec,
        email: &email::InboundEmail,
        tenant: &types::TenantContext,
    ) -> Result<(email::ParseOutcome, CallStats), PluginError> {
        let SlotPre::EmailParser(pre) = &compiled.pre else {
            return Err(wrong_slot(compiled, Slot::EmailParser));
        };
        let _admitted = self
            .admission
            .admit(
                spec.share(compiled),
                &spec.limits,
                json_size(&(email, tenant)),
            )
            .await?;
        let mut store = self.store(compiled, spec)?;
        let outcome = within_deadline(&spec.limits, async {
            pre.instantiate_async(&mut store)
                .await?
                .caravan_plugins_parser()
                .call_parse(&mut store, email, tenant)
                .await
        })
        .await;
        let (out, stats) = Self::finish(&store, outcome, &spec.limits)?;
        Self::output_cap(json_size(&out), &spec.limits)
            .and_then(|()| validate::parse_outcome(&out, tenant))
            .map_err(|e| e.with_stats(stats))?;
        Ok((out, stats))
    }

    /// Runs quote rules.
    pub async fn propose(
        &self,
        compiled: &Compiled,
        spec: &CallSpec,
        trip: &quoting::Trip,
        rates: &[quoting::Rate],
        tenant: &types::TenantContext,
    ) -> Result<(quoting::QuotePlan, CallStats), PluginError> {
        let SlotPre::QuoteRules(pre) = &compiled.pre else {
            return Err(wrong_slot(compiled, Slot::QuoteRules));
        };
        let _admitted = self
            .admission
            .admit(
                spec.share(compiled),
                &spec.limits,
                (trip, rates, tenant).json_len(),
            )
            .await?;
        let mut store = self.store(compiled, spec)?;
        let outcome = within_deadline(&spec.limits, async {
            pre.instantiate_async(&mut store)
                .await?
                .caravan_plugins_rules()
                .call_propose(&mut store, trip, rates, tenant)
                .await
        })
        .await;
        let (out, stats) = Self::finish(&store, outcome, &spec.limits)?;
        Self::output_cap(out.json_len(), &spec.limits)
            .and_then(|()| validate::quote_plan(&out, rates))
            .map_err(|e| e.with_stats(stats))?;
        Ok((out, stats))
    }

    /// Runs pricing.
    pub async fn price(
        &self,
        compiled: &Compiled,
        spec: &CallSpec,
        request: &quoting::PricingRequest,
        tenant: &types::TenantContext,
    ) -> Result<(quoting::PricedQuote, CallStats), PluginError> {
        let SlotPre::Pricing(pre) = &compiled.pre else {
            return Err(wrong_slot(compiled, Slot::Pricing));
        };
        let _admitted = self
            .admission
            .admit(
                spec.share(compiled),
                &spec.limits,
                (request, tenant).json_len(),
            )
            .await?;
        let mut store = self.store(compiled, spec)?;
        let outcome = within_deadline(&spec.limits, async {
            pre.instantiate_async(&mut store)
                .await?
                .caravan_plugins_pricer()
                .call_price(&mut store, request, tenant)
                .await
        })
        .await;
        let (out, stats) = Self::finish(&store, outcome, &spec.limits)?;
        Self::output_cap(out.json_len(), &spec.limits)
            .and_then(|()| validate::priced_quote(&out, request))
            .map_err(|e| e.with_stats(stats))?;
        Ok((out, stats))
    }

    /// Runs a PDF template.
    pub async fn render(
        &self,
        compiled: &Compiled,
        spec: &CallSpec,
        request: &documents::DocumentRequest,
    ) -> Result<(documents::Document, CallStats), PluginError> {
        let SlotPre::PdfTemplate(pre) = &compiled.pre else {
            return Err(wrong_slot(compiled, Slot::PdfTemplate));
        };
        let _admitted = self
            .admission
            .admit(spec.share(compiled), &spec.limits, request.json_len())
            .await?;
        let mut store = self.store(compiled, spec)?;
        let outcome = within_deadline(&spec.limits, async {
            pre.instantiate_async(&mut store)
                .await?
                .caravan_plugins_template()
                .call_render(&mut store, request)
                .await
        })
        .await;
        let (out, stats) = Self::finish(&store, outcome, &spec.limits)?;
        Self::output_cap(out.json_len(), &spec.limits)
            .and_then(|()| validate::document(&out))
            .map_err(|e| e.with_stats(stats))?;
        Ok((out, stats))
    }
}

/// Runs a call, giving up once the deadline has passed by more than a tick even if the guest
/// is blocked inside a host function (where the epoch check cannot reach it).
async fn within_deadline<T>(
    limits: &Limits,
    call: impl std::future::Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    match tokio::time::timeout(limits.deadline() + EPOCH_TICK * 2, call).await {
        Ok(result) => result,
        Err(_) => Err(wasmtime::Error::new(Trap::Interrupt)),
    }
}

fn incompatible(message: String) -> PluginError {
    PluginError::new(PluginErrorKind::Incompatible, message)
}

fn wrong_slot(compiled: &Compiled, wanted: Slot) -> PluginError {
    incompatible(format!(
        "component {} was compiled for the {} slot, not {wanted}",
        compiled.sha256, compiled.slot
    ))
}

fn root_cause(err: &wasmtime::Error) -> String {
    format!("{err:#}")
}

/// Tells a core module, a component and garbage apart before asking the compiler, so that
/// the usual mistakes get a precise message.
/// The content hashes of the built-in components, which the cache never drops.
fn default_digests() -> &'static [String] {
    static DIGESTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    DIGESTS.get_or_init(|| {
        Slot::ALL
            .iter()
            .map(|slot| sha256_hex(super::defaults::component(*slot)))
            .collect()
    })
}

fn check_header(bytes: &[u8]) -> Result<(), PluginError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(incompatible(
            "not a WebAssembly file (missing the \\0asm header)".into(),
        ));
    }
    match bytes[4..8] {
        [0x01, 0x00, 0x00, 0x00] => Err(incompatible(
            "a core WebAssembly module, not a component: build with `--target wasm32-wasip2` \
             (or wrap it with `wasm-tools component new`)"
                .into(),
        )),
        [_, _, 0x01, 0x00] => Ok(()),
        _ => Err(incompatible("an unknown WebAssembly binary version".into())),
    }
}

/// Turns a failed call into the kind of failure it was.
fn classify_trap(
    err: &wasmtime::Error,
    store: &Store<PluginState>,
    limits: &Limits,
) -> PluginError {
    let trap = err.downcast_ref::<Trap>().copied();
    match trap {
        Some(Trap::OutOfFuel) => PluginError::new(
            PluginErrorKind::OutOfFuel,
            format!(
                "the call used up its budget of {} instructions",
                limits.fuel
            ),
        ),
        Some(Trap::Interrupt) => PluginError::new(
            PluginErrorKind::Deadline,
            format!("the call ran past its {} ms deadline", limits.deadline_ms),
        ),
        _ if store.data().limiter.memory_denied => PluginError::new(
            PluginErrorKind::Memory,
            format!(
                "the plugin tried to use more than {} bytes of memory",
                limits.memory_bytes
            ),
        ),
        _ => {
            let stderr = store.data().stderr();
            let what = match trap {
                Some(Trap::StackOverflow) => "stack overflow".to_owned(),
                Some(t) => t.to_string(),
                None => format!("{err:#}"),
            };
            let message = if stderr.is_empty() {
                format!("the plugin trapped: {what}")
            } else {
                format!("the plugin trapped: {what}: {stderr}")
            };
            PluginError::new(PluginErrorKind::Trap, message)
        }
    }
}
