//! Where the database is: the URL parsed into a backend and what to connect to, described without credentials.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    pub backend: Backend,
    /// What diesel connects with: a file path for SQLite, the URL for PostgreSQL.
    pub connect: String,
}

pub const ACCEPTED_URL_FORMS: &str =
    "sqlite://RELATIVE/PATH.db, sqlite:///ABSOLUTE/PATH.db, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE or postgresql://...";

impl DbTarget {
    /// Parses a database URL. The error names the accepted forms and never echoes the URL (it may hold a password).
    pub fn parse(url: &str) -> Result<DbTarget, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
                return Err(format!(
                    "DATABASE_URL for SQLite must name a file (an in-memory database is not shared between connections); accepted forms: {ACCEPTED_URL_FORMS}"
                ));
            }
            return Ok(DbTarget {
                backend: Backend::Sqlite,
                connect: path.to_string(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbTarget {
                backend: Backend::Postgres,
                connect: url.to_string(),
            });
        }
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("(none)");
        Err(format!(
            "unsupported DATABASE_URL scheme {scheme:?}; accepted forms: {ACCEPTED_URL_FORMS}"
        ))
    }

    /// Where the database is, for messages: the SQLite file, or PostgreSQL's host, port and database (never the
    /// user or password).
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("SQLite file {}", self.connect),
            Backend::Postgres => {
                let rest = self.connect.split_once("://").map(|(_, r)| r).unwrap_or("");
                let at = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
                let place = at.split('?').next().unwrap_or(at);
                format!("PostgreSQL database {place}")
            }
        }
    }

    /// The SQLite file path, when this is SQLite.
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.backend == Backend::Sqlite).then_some(self.connect.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_described_by_where_it_is_never_by_its_credentials() {
        let pg = DbTarget::parse(
            "postgres://user:secret-pw@db.internal:5432/orderwatch?sslmode=require",
        )
        .unwrap();
        assert_eq!(
            pg.describe(),
            "PostgreSQL database db.internal:5432/orderwatch"
        );
        let sqlite = DbTarget::parse("sqlite:///var/lib/ow.db").unwrap();
        assert_eq!(sqlite.describe(), "SQLite file /var/lib/ow.db");
    }

    #[test]
    fn urls_choose_the_backend_and_bad_ones_name_the_accepted_forms() {
        assert_eq!(
            DbTarget::parse("sqlite://orderwatch.db").unwrap().connect,
            "orderwatch.db"
        );
        assert_eq!(
            DbTarget::parse("sqlite:///var/lib/ow.db").unwrap().connect,
            "/var/lib/ow.db"
        );
        assert_eq!(
            DbTarget::parse("postgres://u@h/d").unwrap().backend,
            Backend::Postgres
        );
        assert_eq!(
            DbTarget::parse("postgresql://u@h/d").unwrap().backend,
            Backend::Postgres
        );
        let err = DbTarget::parse("mysql://root:hunter2@h/d").unwrap_err();
        assert!(
            err.contains("\"mysql\"") && err.contains("sqlite://") && err.contains("postgres://")
        );
        assert!(!err.contains("hunter2"));
        assert!(DbTarget::parse("orderwatch.db").is_err());
        assert!(DbTarget::parse("sqlite://:memory:").is_err());
    }
}
