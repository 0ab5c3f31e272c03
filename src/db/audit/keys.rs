//! The audit keys of the `Database` whose work runs on this thread: [`append`] writes with them and [`verify`]
//! checks with them. `Database::run` and the audit writer hold a [`keys::KeyScope`]; writing outside one fails,
//! so no entry is ever written unkeyed by mistake.
use crate::domain::audit::AuditKeys;
use crate::error::{AppError, AppResult};
use std::cell::RefCell;
use std::sync::Arc;

thread_local! {
    static CURRENT: RefCell<Option<Arc<AuditKeys>>> = const { RefCell::new(None) };
}

/// While alive, the audit log on this thread is written and verified with `keys`.
pub struct KeyScope(Option<Arc<AuditKeys>>);

impl KeyScope {
    pub fn enter(keys: Arc<AuditKeys>) -> KeyScope {
        KeyScope(CURRENT.with(|c| c.replace(Some(keys))))
    }
}

impl Drop for KeyScope {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

pub(super) fn current() -> AppResult<Arc<AuditKeys>> {
    CURRENT.with(|c| c.borrow().clone()).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "the audit log was used outside a key scope"
        ))
    })
}
