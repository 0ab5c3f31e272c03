//! What keeps the audit log honest against someone who can write to the database: signed checkpoints written
//! outside it, the verification of the chain against them, and the check that the append-only triggers are there.

use super::Services;
use crate::db;
use crate::db::audit::Verified;
use crate::domain::audit::Checkpoint;
use crate::error::{AppError, AppResult};
use std::io::Write;
use std::path::{Path, PathBuf};

impl Services {
    /// Records where the chain stands now, signed with the current key: appended to `file` (when there is one, and
    /// flushed to disk) and written to the server's log. Returns the checkpoint.
    pub async fn audit_checkpoint(&self, file: Option<&Path>) -> AppResult<Checkpoint> {
        self.audit_checkpoint_since(file, None).await
    }

    /// As [`Services::audit_checkpoint`], counting only the entries after `since`, an earlier checkpoint's
    /// `(seq, count)`.
    async fn audit_checkpoint_since(
        &self,
        file: Option<&Path>,
        since: Option<(i64, u64)>,
    ) -> AppResult<Checkpoint> {
        let head = self.db.run(move |c| db::audit::head(c, since)).await?;
        let keys = self.db.audit_keys();
        let cp = Checkpoint::sign(self.now(), head, keys.current());
        tracing::info!(
            audit.seq = cp.seq,
            audit.hash = %cp.hash,
            audit.count = cp.count,
            audit.key_id = %cp.key_id,
            audit.mac = %cp.mac,
            "audit checkpoint"
        );
        if let Some(path) = file {
            let line = serde_json::to_string(&cp).map_err(AppError::internal)? + "\n";
            let path = path.to_path_buf();
            tokio::task::spawn_blocking(move || append_line(&path, &line))
                .await
                .map_err(AppError::internal)?
                .map_err(|e| AppError::Unavailable(e.context("writing the audit checkpoint")))?;
        }
        Ok(cp)
    }

    /// Walks the chain, then checks it against the checkpoints in `file` (if any).
    pub async fn verify_audit_with(&self, file: Option<&Path>) -> AppResult<Verified> {
        let checkpoints = match file {
            Some(path) => read_checkpoints(path)?,
            None => vec![],
        };
        self.db
            .run(move |conn| match db::audit::verify(conn)? {
                Verified::Intact { events } => {
                    Ok(db::audit::verify_checkpoints(conn, &checkpoints)?
                        .unwrap_or(Verified::Intact { events }))
                }
                broken => Ok(broken),
            })
            .await
    }

    /// How a search by subject is named in the log: `subject:TAG`, a keyed hash of the normalised name and date of
    /// birth (`orderwatch audit subject-tag` computes the same for an auditor), never the name itself.
    pub fn subject_tag(&self, name_key: Option<&str>, born: Option<chrono::NaiveDate>) -> String {
        let text = crate::domain::audit::subject_search_text(name_key, born);
        format!("subject:{}", self.db.audit_keys().tag(&text))
    }

    /// What leaves the log unprotected: its append-only triggers missing or disabled, and on PostgreSQL with
    /// `ORDERWATCH_AUDIT_TABLE_OWNER`, the table owned by another role or the server running as its owner (empty
    /// when the log is protected).
    pub async fn audit_unprotected(&self) -> AppResult<Vec<String>> {
        let owner = self.audit_owner.clone();
        self.db
            .run(move |conn| {
                let mut problems: Vec<String> = db::audit::missing_protection(conn)?
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                if let Some(owner) = owner.as_deref() {
                    problems.extend(db::audit::owner_problem(conn, owner)?);
                }
                Ok(problems)
            })
            .await
    }

    /// Puts the append-only triggers back.
    pub async fn protect_audit(&self) -> AppResult<()> {
        self.db.run(db::audit::restore_protection).await
    }
}

fn append_line(path: &Path, line: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(line.as_bytes())?;
    f.sync_data()?;
    Ok(())
}

/// The checkpoints of a file, oldest first; a missing file has none. A line that is not a checkpoint is an error
/// naming the line (the file was edited).
pub fn read_checkpoints(path: &Path) -> AppResult<Vec<Checkpoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => {
            return Err(AppError::internal(
                anyhow::Error::new(e).context(format!("reading {}", path.display())),
            ))
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|_| {
                AppError::internal(anyhow::anyhow!(
                    "{} line {} is not an audit checkpoint",
                    path.display(),
                    n + 1
                ))
            })
        })
        .collect()
}

/// Writes a checkpoint every `every` while the log grows, after `first` (the start-up one), until `stop` turns true;
/// each counts only the entries since the one before. A failure is logged and tried again at the next tick.
pub fn spawn_checkpoints(
    services: Services,
    file: Option<PathBuf>,
    first: Checkpoint,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut last = (first.seq, first.count);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let newest = match services.db.run(db::audit::newest_seq).await {
                Ok(seq) => seq,
                Err(e) => {
                    tracing::warn!(
                        error.code = e.code(),
                        "audit head could not be read for a checkpoint"
                    );
                    continue;
                }
            };
            if newest == last.0 {
                continue;
            }
            match services
                .audit_checkpoint_since(file.as_deref(), Some(last))
                .await
            {
                Ok(cp) => last = (cp.seq, cp.count),
                Err(e) => tracing::error!(
                    error.code = e.code(),
                    "audit checkpoint could not be written"
                ),
            }
        }
    });
}
