//! This process's side of delivery to endpoints: its settings and clients, its name in leases, and the endpoints
//! it is delivering to now.

use super::send::Senders;
use super::EndpointSettings;
use std::collections::HashSet;
use std::sync::Mutex;

/// This process's side of endpoint delivery: the settings, the clients, its name in leases, and the endpoints
/// it is delivering to now.
pub struct Outbound {
    pub(super) settings: EndpointSettings,
    senders: Senders,
    /// Wakes the claiming loop at once (an endpoint registered or resumed here).
    pub(super) wake: tokio::sync::Notify,
    /// This process's name in `lease_owner`.
    pub(super) owner: String,
    pub(super) running: Mutex<HashSet<String>>,
}

impl Outbound {
    pub fn new(settings: EndpointSettings) -> Result<Outbound, String> {
        Ok(Outbound {
            senders: Senders::new(&settings)?,
            settings,
            wake: tokio::sync::Notify::new(),
            owner: uuid::Uuid::new_v4().to_string(),
            running: Mutex::default(),
        })
    }

    pub fn settings(&self) -> &EndpointSettings {
        &self.settings
    }

    pub fn senders(&self) -> &Senders {
        &self.senders
    }

    /// Has the claiming loop look for endpoints at once.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(super) fn lease_until(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        now + chrono::Duration::from_std(self.settings.lease)
            .unwrap_or(chrono::Duration::seconds(30))
    }

    /// Marks `id` as delivered to here; false when a worker of this process has it already.
    pub(super) fn start(&self, id: &str) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string())
    }

    pub(super) fn stop(&self, id: &str) {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}
