//! The documentation keeps up with the code: every setting is documented in docs/operations.md, and docs/api.md's
//! error table lists exactly the codes the source gives.

#[test]
fn every_setting_has_a_row_in_the_operations_guide() {
    let config = include_str!("../../src/config/mod.rs");
    let operations = include_str!("../../docs/operations.md");
    let settings: Vec<&str> = config
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(settings.len() > 20, "{settings:?}");
    let missing: Vec<&&str> = settings
        .iter()
        .filter(|s| !operations.contains(&format!("`{s}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "settings not in docs/operations.md: {missing:?}"
    );
}

#[test]
fn the_admission_codes_are_in_the_api_reference() {
    let api = include_str!("../../docs/api.md");
    for code in [
        "DOCUMENT_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "QUERY_TOO_DEEP",
        "QUERY_TOO_COMPLEX",
        "DATE_OUT_OF_RANGE",
        "DELIVERY_INTERRUPTED",
        "GRAPHQL_VALIDATION_FAILED",
    ] {
        assert!(
            api.contains(&format!("`{code}`")),
            "{code} is not in docs/api.md"
        );
    }
}

/// Every error code the source can give a client: the first string of an error constructor (`forbidden(`,
/// `validation(`, `conflict(`, a violation's `push(`, a `code: "..."` field) when it is an upper-case code.
fn codes_in_source() -> std::collections::BTreeSet<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = vec![];
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut codes = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for marker in [
            "forbidden(",
            "validation(",
            "conflict(",
            ".push(",
            "code: ",
            "refuse(",
        ] {
            for rest in text.split(marker).skip(1) {
                let rest = rest.trim_start();
                let Some(literal) = rest.strip_prefix('"') else {
                    continue;
                };
                let code: String = literal.chars().take_while(|c| *c != '"').collect();
                if code.len() > 2
                    && code
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                {
                    codes.insert(code);
                }
            }
        }
    }
    codes
}

/// The codes in the first column of docs/api.md's error table.
fn codes_documented() -> std::collections::BTreeSet<String> {
    let api = include_str!("../../docs/api.md");
    let table = api
        .split("| Code | When |")
        .nth(1)
        .expect("docs/api.md has an error table");
    table
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .flat_map(|l| {
            l.split('|')
                .nth(1)
                .unwrap_or("")
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_error_table_lists_exactly_the_codes_the_source_gives() {
    let source = codes_in_source();
    let documented = codes_documented();
    assert!(source.len() > 60, "{source:?}");
    let undocumented: Vec<_> = source.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "codes given by the source but not in docs/api.md's error table: {undocumented:?}"
    );
    // A documented code the scan above cannot see must still be written somewhere in the source.
    let stale: Vec<_> = documented
        .iter()
        .filter(|code| !source.contains(*code) && !source_mentions(code))
        .collect();
    assert!(
        stale.is_empty(),
        "codes in docs/api.md's error table that the source never gives: {stale:?}"
    );
}

/// Whether `code` appears as a string literal anywhere in `src/`.
fn source_mentions(code: &str) -> bool {
    let needle = format!("\"{code}\"");
    let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read_to_string(&path).unwrap().contains(&needle) {
                return true;
            }
        }
    }
    false
}
