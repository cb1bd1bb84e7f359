//! Admission of plugin calls to the instance pool: a call needs one of the pool's slots, and
//! one tenant may hold only a share of them, so a tenant whose calls are slow (or hostile)
//! queues behind its own calls and leaves the rest of the pool to everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
use tokio::time::{Instant, timeout_at};

use super::{Limits, PluginError, PluginErrorKind, size_cap};

/// Plugin calls that may be in flight at once on this host (sizes the instance pool); more
/// wait for a slot.
pub const MAX_CONCURRENT_CALLS: u32 = 64;

/// Slots one tenant may hold at once on this host. A quarter of the pool: a single tenant
/// with every call stuck until its deadline leaves three quarters to the others, and 16
/// calls in flight is far more than one agency's traffic needs on one host.
pub const TENANT_SHARE: u32 = MAX_CONCURRENT_CALLS / 4;

/// Tenants remembered before idle entries are forgotten; bounds the map on a host that has
/// served many tenants.
const PRUNE_AT: usize = 1024;

/// Whose share a call counts against: the tenant's own calls, or those its administrators
/// start (dry-runs, an upload's fixtures), which have a share of their own.
#[derive(Debug, Clone, Copy)]
pub struct ShareKey<'a> {
    pub tenant_id: &'a str,
    pub admin: bool,
}

/// The permit `now` when one was free, else the first to come before `until`; `None` once
/// time is up (the semaphores are never closed, so a timeout is the one way to fail).
async fn first_free<P>(
    until: Instant,
    now: Result<P, TryAcquireError>,
    later: impl Future<Output = Result<P, AcquireError>>,
) -> Option<P> {
    match now {
        Ok(permit) => Some(permit),
        Err(_) => timeout_at(until, later).await.ok()?.ok(),
    }
}

/// The right to run one call: dropped after the call's store, when the slot is free again.
#[derive(Debug)]
pub struct Admitted<'a> {
    _slot: SemaphorePermit<'a>,
    _share: Option<OwnedSemaphorePermit>,
}

/// One permit per instance slot, and one semaphore per tenant (and per tenant's
/// administrators) for its share.
#[derive(Debug)]
pub struct Admission {
    slots: Semaphore,
    /// Indexed by [`ShareKey::admin`].
    shares: [Mutex<HashMap<String, Arc<Semaphore>>>; 2],
}

impl Default for Admission {
    fn default() -> Self {
        Self {
            slots: Semaphore::new(MAX_CONCURRENT_CALLS as usize),
            shares: Default::default(),
        }
    }
}

impl Admission {
    /// Checks the input against its cap, then waits for a place in the tenant's share and
    /// for a slot of the pool, both within the call's deadline (which, for running, starts
    /// once the call is admitted). Waiting longer fails as `deadline`, naming what was full.
    pub async fn admit(
        &self,
        share: Option<ShareKey<'_>>,
        limits: &Limits,
        input_size: usize,
    ) -> Result<Admitted<'_>, PluginError> {
        size_cap(
            PluginErrorKind::InputTooLarge,
            "input",
            input_size,
            limits.input_bytes,
        )?;
        let until = Instant::now() + limits.deadline();
        let busy = |what: String| {
            PluginError::new(
                PluginErrorKind::Deadline,
                format!(
                    "{what} stayed busy for the call's {} ms deadline",
                    limits.deadline_ms
                ),
            )
        };
        let share = match share {
            None => None,
            Some(key) => {
                let share = self.share(key);
                let permit = first_free(
                    until,
                    share.clone().try_acquire_owned(),
                    share.acquire_owned(),
                )
                .await;
                if permit.is_none() {
                    let whose = if key.admin {
                        "this tenant's administrative"
                    } else {
                        "this tenant's"
                    };
                    return Err(busy(format!(
                        "{whose} share of {TENANT_SHARE} plugin instance slots on this host"
                    )));
                }
                permit
            }
        };
        let Some(slot) = first_free(until, self.slots.try_acquire(), self.slots.acquire()).await
        else {
            return Err(busy(format!(
                "all {MAX_CONCURRENT_CALLS} plugin instance slots on this host"
            )));
        };
        Ok(Admitted {
            _slot: slot,
            _share: share,
        })
    }

    /// The tenant's semaphore. An entry nobody holds or waits on (the map's reference is the
    /// only one) can be forgotten; the next call makes a fresh one.
    fn share(&self, key: ShareKey<'_>) -> Arc<Semaphore> {
        let tenant_id = key.tenant_id;
        let mut shares = self.shares[usize::from(key.admin)]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(share) = shares.get(tenant_id) {
            return share.clone();
        }
        if shares.len() >= PRUNE_AT {
            shares.retain(|_, share| Arc::strong_count(share) > 1);
        }
        let share = Arc::new(Semaphore::new(TENANT_SHARE as usize));
        shares.insert(tenant_id.to_owned(), share.clone());
        share
    }
}
