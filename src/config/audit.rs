//! Where the audit chain's keys and checkpoints come from. Both live outside the database, so someone who can write
//! to the database can neither recompute the chain nor rewrite the record of where it stood.

use super::Settings;
use crate::db::DbTarget;
use crate::domain::audit::{AuditKey, AuditKeys};
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// Where the audit keys came from, for the start-up line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditKeySource {
    Configured,
    File(PathBuf),
    Generated(PathBuf),
    /// No key: a development server on PostgreSQL without one writes unkeyed links.
    Unkeyed,
}

impl std::fmt::Display for AuditKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditKeySource::Configured => write!(f, "audit key from ORDERWATCH_AUDIT_KEY"),
            AuditKeySource::File(p) => write!(f, "audit keys from {}", p.display()),
            AuditKeySource::Generated(p) => write!(
                f,
                "audit key generated and kept in {} (set ORDERWATCH_AUDIT_KEY_FILE to choose one)",
                p.display()
            ),
            AuditKeySource::Unkeyed => write!(
                f,
                "audit chain UNKEYED: set ORDERWATCH_AUDIT_KEY_FILE (required in production)"
            ),
        }
    }
}

/// Parses `ID=SECRET` lines (blank lines and `#` comments skipped); the error names the line, never the secret.
pub fn parse_keys(text: &str, source: &str) -> anyhow::Result<Vec<AuditKey>> {
    let mut keys = vec![];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, secret) = line
            .split_once('=')
            .with_context(|| format!("{source} line {}: not ID=SECRET", n + 1))?;
        keys.push(
            AuditKey::new(id.trim(), secret.trim().as_bytes())
                .map_err(|e| anyhow::anyhow!("{source} line {}: {e}", n + 1))?,
        );
    }
    anyhow::ensure!(!keys.is_empty(), "{source} holds no audit key");
    Ok(keys)
}

/// The audit keys: `ORDERWATCH_AUDIT_KEY`, else `ORDERWATCH_AUDIT_KEY_FILE`, else for SQLite a key file beside the
/// database (created on first use, readable only by its owner). On PostgreSQL without a key a development server
/// runs unkeyed and a production one refuses to start.
pub fn resolve_audit_keys(
    settings: &Settings,
    target: &DbTarget,
) -> anyhow::Result<(AuditKeys, AuditKeySource)> {
    if let Some(inline) = &settings.audit_key {
        let keys = parse_keys(inline, "ORDERWATCH_AUDIT_KEY")?;
        return Ok((AuditKeys::new(keys), AuditKeySource::Configured));
    }
    if let Some(path) = &settings.audit_key_file {
        return Ok((read_key_file(path)?, AuditKeySource::File(path.clone())));
    }
    let Some(db_path) = target.sqlite_path() else {
        anyhow::ensure!(
            !settings.production(),
            "ORDERWATCH_AUDIT_KEY_FILE is required in production with PostgreSQL (lines of ID=SECRET, e.g. `echo \"k1=$(openssl rand -hex 32)\" > audit.keys`)"
        );
        return Ok((AuditKeys::default(), AuditKeySource::Unkeyed));
    };
    let path = PathBuf::from(format!("{db_path}.audit-key"));
    if path.exists() {
        return Ok((read_key_file(&path)?, AuditKeySource::File(path)));
    }
    let created = super::create_dev_file(&path, |secret| format!("dev-1={secret}\n"))?;
    let keys = read_key_file(&path)?;
    Ok(if created {
        (keys, AuditKeySource::Generated(path))
    } else {
        (keys, AuditKeySource::File(path))
    })
}

fn read_key_file(path: &Path) -> anyhow::Result<AuditKeys> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(AuditKeys::new(parse_keys(
        &text,
        &path.display().to_string(),
    )?))
}

/// Where checkpoints are written: `ORDERWATCH_AUDIT_CHECKPOINT_FILE`, else for SQLite beside the database file.
/// Production on PostgreSQL requires one.
pub fn checkpoint_path(settings: &Settings, target: &DbTarget) -> anyhow::Result<Option<PathBuf>> {
    if let Some(p) = &settings.audit_checkpoint_file {
        return Ok(Some(p.clone()));
    }
    match target.sqlite_path() {
        Some(db) => Ok(Some(PathBuf::from(format!("{db}.audit-checkpoints")))),
        None => {
            anyhow::ensure!(
                !settings.production(),
                "ORDERWATCH_AUDIT_CHECKPOINT_FILE is required in production with PostgreSQL (a file the database's users cannot write)"
            );
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_are_id_equals_secret_and_errors_name_the_line_not_the_secret() {
        let keys = parse_keys(
            "# rotated 2026-12\nk1=0123456789abcdef0123456789abcdef\n\nk2=fedcba9876543210fedcba9876543210\n",
            "keys",
        )
        .unwrap();
        assert_eq!(
            keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            ["k1", "k2"]
        );
        let e = parse_keys("k1=too-short-secret", "keys")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1") && !e.contains("too-short-secret"),
            "{e}"
        );
        assert!(parse_keys("no separator here", "keys").is_err());
        assert!(parse_keys("# nothing", "keys").is_err());
    }
}
