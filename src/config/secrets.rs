//! The JWT secret: the configured one, or a development secret kept beside an SQLite database file.

use super::Settings;
use crate::auth::jwt::MIN_SECRET_LEN;
use crate::db::DbTarget;
use anyhow::Context as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the token secret came from, for the start-up line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// No HS256 secret: tokens are verified with public keys only.
    PublicKeysOnly,
    Configured,
    File(PathBuf),
    Generated(PathBuf),
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::PublicKeysOnly => write!(
                f,
                "tokens verified with public keys only (no ORDERWATCH_JWT_SECRET)"
            ),
            SecretSource::Configured => write!(f, "JWT secret from ORDERWATCH_JWT_SECRET"),
            SecretSource::File(p) => write!(f, "JWT secret from {}", p.display()),
            SecretSource::Generated(p) => write!(
                f,
                "JWT secret generated and kept in {} (set ORDERWATCH_JWT_SECRET to choose one)",
                p.display()
            ),
        }
    }
}

/// The HS256 secret: the configured one, or for SQLite a development secret kept beside the database file
/// (created on first use, readable only by its owner) so tokens survive restarts.
pub fn resolve_jwt_secret(
    settings: &Settings,
    target: &DbTarget,
    create: bool,
) -> anyhow::Result<(Vec<u8>, SecretSource)> {
    if let Some(s) = &settings.jwt_secret {
        anyhow::ensure!(
            s.len() >= MIN_SECRET_LEN,
            "ORDERWATCH_JWT_SECRET must be at least {MIN_SECRET_LEN} bytes"
        );
        return Ok((s.as_bytes().to_vec(), SecretSource::Configured));
    }
    let Some(db_path) = target.sqlite_path() else {
        anyhow::bail!("ORDERWATCH_JWT_SECRET is required with PostgreSQL (at least {MIN_SECRET_LEN} bytes, e.g. `openssl rand -hex 32`)");
    };
    let path = PathBuf::from(format!("{db_path}.jwt-secret"));
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let secret = existing.trim().as_bytes().to_vec();
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_LEN,
            "{} holds a secret shorter than {MIN_SECRET_LEN} bytes",
            path.display()
        );
        return Ok((secret, SecretSource::File(path)));
    }
    anyhow::ensure!(
        create,
        "no JWT secret yet: {} does not exist. Start the server once with this DATABASE_URL (it creates the file), run this from the folder it runs in, or set ORDERWATCH_JWT_SECRET",
        path.display()
    );
    let created = create_dev_file(&path, |secret| secret.to_string())?;
    let secret = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .trim()
        .as_bytes()
        .to_vec();
    let source = if created {
        SecretSource::Generated(path)
    } else {
        SecretSource::File(path)
    };
    Ok((secret, source))
}

/// Creates a development secret file at `path`, readable only by its owner, holding `contents` of a new random
/// secret (64 hex digits). Returns false when another process created it first (then theirs is used).
pub(crate) fn create_dev_file(
    path: &Path,
    contents: impl Fn(&str) -> String,
) -> anyhow::Result<bool> {
    let secret: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(contents(&secret).as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}
