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
    pub(crate) async fn audit_checkpoint_since(
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

    /// Walks the chain, checking it against the checkpoints in `file`. With a checkpoint file named and a log that
    /// is not empty, a file with no checkpoint is itself a finding: it was deleted or emptied (it is where someone
    /// who rewrote the whole chain without the key would have to hide the evidence).
    pub async fn verify_audit_with(&self, file: Option<&Path>) -> AppResult<Verified> {
        let checkpoints = match file {
            Some(path) => read_checkpoints(path)?,
            None => vec![],
        };
        let named = file.map(|p| p.display().to_string());
        self.db
            .run(move |conn| {
                let verified = db::audit::verify(conn, &checkpoints)?;
                match (&verified, named) {
                    (Verified::Intact { events }, Some(path)) if *events > 0 && checkpoints.is_empty() => {
                        Ok(Verified::Broken {
                            seq: 0,
                            id: String::new(),
                            problem: format!("{path} holds no checkpoint: it was deleted or emptied, or no server has written one (if the log is known to be intact, `orderwatch audit checkpoint` writes one)"),
                        })
                    }
                    _ => Ok(verified),
                }
            })
            .await
    }

    /// Checks, before a server writes its start-up checkpoint, that the log still holds the entry the last
    /// checkpoint in `file` recorded, with its hash; returns the problem if not. Cheap (one lookup), so entries
    /// deleted from the end while no server ran are found before a new checkpoint could endorse the cut log.
    pub async fn audit_matches_last_checkpoint(
        &self,
        file: &Path,
    ) -> AppResult<Result<Option<Checkpoint>, String>> {
        let Some(last) = read_checkpoints(file)?.into_iter().last() else {
            return Ok(Ok(None));
        };
        if !last.signed_by(&self.db.audit_keys()) {
            return Ok(Err(format!(
                "the last checkpoint in {} is not signed by a key this server holds",
                file.display()
            )));
        }
        if last.seq == 0 {
            return Ok(Ok(Some(last)));
        }
        let seq = last.seq;
        let hash = self.db.run(move |c| db::audit::hash_of(c, seq)).await?;
        Ok(match hash {
            Some(h) if h == last.hash => Ok(Some(last)),
            Some(_) => Err(format!("entry {seq}, the last checkpoint's, has another hash now (the chain was rewritten)")),
            None => Err(format!("entry {seq}, the last checkpoint's, is gone (entries were deleted from the end, or the log emptied)")),
        })
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

/// Writes checkpoints while the server runs: each counts only the entries since the one before, and none is
/// written when nothing was appended.
pub struct CheckpointWriter {
    services: Services,
    file: Option<PathBuf>,
    last: tokio::sync::Mutex<(i64, u64)>,
}

impl CheckpointWriter {
    /// A writer that goes on from `first` (the start-up checkpoint).
    pub fn new(
        services: Services,
        file: Option<PathBuf>,
        first: &Checkpoint,
    ) -> std::sync::Arc<Self> {
        std::sync::Arc::new(CheckpointWriter {
            services,
            file,
            last: tokio::sync::Mutex::new((first.seq, first.count)),
        })
    }

    /// Writes a checkpoint if entries were appended since the last one; a failure is logged.
    pub async fn write_if_grown(&self) {
        let mut last = self.last.lock().await;
        let newest = match self.services.db.run(db::audit::newest_seq).await {
            Ok(seq) => seq,
            Err(e) => {
                tracing::warn!(
                    error.code = e.code(),
                    "audit head could not be read for a checkpoint"
                );
                return;
            }
        };
        if newest == last.0 {
            return;
        }
        match self
            .services
            .audit_checkpoint_since(self.file.as_deref(), Some(*last))
            .await
        {
            Ok(cp) => *last = (cp.seq, cp.count),
            Err(e) => tracing::error!(
                error.code = e.code(),
                "audit checkpoint could not be written"
            ),
        }
    }

    /// Writes one every `every` until `stop` turns true.
    pub fn spawn(
        self: std::sync::Arc<Self>,
        every: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => self.write_if_grown().await,
                    _ = stop.changed() => return,
                }
            }
        });
    }
}
