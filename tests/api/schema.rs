//! The checked-in artefacts match the code: `schema.graphql` is what the server serves, and both migration trees
//! produce the tables `src/db/schema.rs` declares.

use crate::helpers::*;
use diesel::prelude::*;
use orderwatch::db::DbConnection;
use std::collections::BTreeMap;

#[test]
fn schema_graphql_is_exactly_what_the_code_serves() {
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        checked_in == orderwatch::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}

#[test]
fn both_migration_trees_have_the_same_migrations() {
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
    assert!(!names("sqlite").is_empty());
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    data_type: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pk_position: i64,
}

/// The diesel type both backends map a column to; an unknown type fails the test (it would not fit both).
fn diesel_type(data_type: &str) -> &'static str {
    match data_type.to_ascii_lowercase().as_str() {
        "text" => "Text",
        "integer" | "bigint" => "BigInt",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "date" => "Date",
        "boolean" => "Bool",
        other => panic!("column type {other:?} is not in the subset both backends share"),
    }
}

/// Writes the `diesel::table!` blocks for the migrated database, in schema.rs's layout.
fn print_tables(columns: Vec<Column>) -> String {
    let mut tables: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for c in columns {
        tables.entry(c.table_name.clone()).or_default().push(c);
    }
    let mut out = String::new();
    for (name, cols) in tables {
        let mut pk: Vec<&Column> = cols.iter().filter(|c| c.pk_position > 0).collect();
        pk.sort_by_key(|c| c.pk_position);
        let pk: Vec<&str> = pk.iter().map(|c| c.column_name.as_str()).collect();
        out.push_str(&format!(
            "diesel::table! {{\n    {name} ({}) {{\n",
            pk.join(", ")
        ));
        for c in &cols {
            let ty = diesel_type(&c.data_type);
            let ty = if c.nullable {
                format!("Nullable<{ty}>")
            } else {
                ty.to_string()
            };
            out.push_str(&format!("        {} -> {ty},\n", c.column_name));
        }
        out.push_str("    }\n}\n\n");
    }
    out
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
    (p.\"notnull\" = 0) AS nullable, CAST(p.pk AS BIGINT) AS pk_position \
    FROM sqlite_master m JOIN pragma_table_info(m.name) p \
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
    ORDER BY m.name, p.cid";

const POSTGRES_COLUMNS: &str = "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
    c.data_type::text AS data_type, (c.is_nullable = 'YES') AS nullable, \
    COALESCE((SELECT k.ordinal_position FROM information_schema.table_constraints t \
      JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema \
      WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema AND t.table_name = c.table_name \
        AND k.column_name = c.column_name), 0)::bigint AS pk_position \
    FROM information_schema.columns c \
    WHERE c.table_schema = current_schema() AND c.table_name <> '__diesel_schema_migrations' \
    ORDER BY c.table_name, c.ordinal_position";

#[tokio::test]
async fn the_migrated_database_has_exactly_the_tables_of_schema_rs() {
    let app = TestApp::spawn().await;
    let columns = app
        .db()
        .await
        .run(|conn: &mut DbConnection| {
            let sql = match conn {
                DbConnection::Sqlite(_) => SQLITE_COLUMNS,
                DbConnection::Pg(_) => POSTGRES_COLUMNS,
            };
            Ok(diesel::sql_query(sql).load::<Column>(conn)?)
        })
        .await
        .unwrap();
    let printed = print_tables(columns);
    let schema_rs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs")).unwrap();
    let declared: String = schema_rs
        .split("diesel::table! {")
        .skip(1)
        .map(|block| {
            let end = block.find("\n}\n").expect("table! block ends with }") + 3;
            format!("diesel::table! {{{}\n", &block[..end])
        })
        .collect();
    assert_eq!(
        printed,
        declared,
        "the {} migrations and src/db/schema.rs differ",
        if on_postgres() { "postgres" } else { "sqlite" }
    );
}

#[tokio::test]
async fn sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout() {
    if on_postgres() {
        return;
    }
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Flag {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        foreign_keys: i64,
    }
    #[derive(QueryableByName)]
    struct Timeout {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        timeout: i64,
    }
    let app = TestApp::spawn().await;
    let (mode, fk, timeout) = app
        .db()
        .await
        .run(|conn: &mut DbConnection| {
            let m: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(conn)?;
            let f: Flag = diesel::sql_query("PRAGMA foreign_keys").get_result(conn)?;
            let t: Timeout = diesel::sql_query("PRAGMA busy_timeout").get_result(conn)?;
            Ok((m.journal_mode, f.foreign_keys, t.timeout))
        })
        .await
        .unwrap();
    assert_eq!((mode.as_str(), fk), ("wal", 1));
    assert!(timeout >= 1000, "busy_timeout {timeout}");
}

#[tokio::test]
async fn each_role_introspects_only_the_operations_and_fields_it_may_use() {
    use orderwatch::auth::Role;
    use serde_json::json;
    let app = TestApp::spawn().await;
    let q = "{ __schema { mutationType { fields { name } } queryType { fields { name } } } __type(name: \"ProtectionOrder\") { fields { name } } }";
    let names = |r: &Gql, path: &str| -> Vec<String> {
        let v = match path {
            "mutation" => &r.data["__schema"]["mutationType"]["fields"],
            "query" => &r.data["__schema"]["queryType"]["fields"],
            _ => &r.data["__type"]["fields"],
        };
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let court = app.gql(&app.token(Role::Court, "WMC"), q, json!({})).await;
    assert!(names(&court, "mutation").contains(&"grantOrder".to_string()));
    assert!(!names(&court, "mutation").contains(&"reportBreach".to_string()));
    assert!(!names(&court, "query").contains(&"auditEvents".to_string()));
    assert!(!names(&court, "order").contains(&"breaches".to_string()));
    let police = app.gql(&app.token(Role::Police, "MET"), q, json!({})).await;
    assert!(names(&police, "mutation").contains(&"reportBreach".to_string()));
    assert!(names(&police, "order").contains(&"breaches".to_string()));
    assert!(!names(&police, "mutation").contains(&"createAgency".to_string()));
    let auditor = app
        .gql(&app.token(Role::Auditor, "DPO"), q, json!({}))
        .await;
    assert!(names(&auditor, "query").contains(&"auditEvents".to_string()));
    assert!(!names(&auditor, "query").contains(&"orders".to_string()));
    // Hidden is not unprotected: the guard still answers.
    let hidden = app
        .gql(&app.token(Role::Court, "WMC"), "mutation { reportBreach(input: { reference: \"X\", occurredAt: \"2026-01-01T00:00:00Z\", description: \"d\", externalRef: \"e\" }) { id } }", json!({}))
        .await;
    hidden.err("FORBIDDEN");
}
