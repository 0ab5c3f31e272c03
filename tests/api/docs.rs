//! The documentation keeps up with the code: every setting is documented in docs/operations.md, and docs/api.md's
//! error table lists exactly the codes the source gives.

#[test]
fn every_setting_has_a_row_in_the_operations_guide() {
    let config = [
        include_str!("../../src/config/mod.rs"),
        include_str!("../../src/config/endpoints.rs"),
    ]
    .concat();
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

/// Every source file of `src/` but the declarations, as one text.
fn all_source() -> String {
    let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut text = String::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.ends_with("codes.rs") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    text
}

/// The codes declared in `src/codes.rs`.
fn codes_declared() -> std::collections::BTreeSet<String> {
    let declared = include_str!("../../src/codes.rs");
    declared
        .split("codes! {")
        .nth(1)
        .expect("codes.rs declares its codes")
        .lines()
        .map(|l| l.trim().trim_end_matches(','))
        .take_while(|l| *l != "}")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Where the source writes a code as a string literal where an error is made (`forbidden(`, `validation(`,
/// `conflict(`, a violation's `push(`, a `code: ...` field, `error_body(...)`), outside tests: each should name
/// the declared constant instead.
fn literal_codes_in_source(declared: &std::collections::BTreeSet<String>) -> Vec<String> {
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
    let mut found = vec![];
    for file in files {
        let name = file.display().to_string();
        if name.ends_with("codes.rs") || name.ends_with("_tests.rs") || name.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests at the end of a file assert the codes as a client sees them.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for marker in [
            "forbidden(",
            "validation(",
            "conflict(",
            ".push(",
            "code: ",
            "refuse(",
            "StatusCode::",
        ] {
            for rest in text.split(marker).skip(1) {
                let rest = rest.split_once(',').map_or(rest, |(_, after)| {
                    if marker == "StatusCode::" {
                        after
                    } else {
                        rest
                    }
                });
                let Some(literal) = rest.trim_start().strip_prefix('"') else {
                    continue;
                };
                let code: String = literal.chars().take_while(|c| *c != '"').collect();
                if declared.contains(&code) {
                    found.push(format!("{name}: {code}"));
                }
            }
        }
    }
    found
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
fn the_error_table_lists_exactly_the_declared_codes_and_the_source_names_them() {
    let declared = codes_declared();
    let documented = codes_documented();
    assert!(declared.len() > 60, "{declared:?}");
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "codes declared in src/codes.rs but not in docs/api.md's error table: {undocumented:?}"
    );
    let undeclared: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "codes in docs/api.md's error table that src/codes.rs does not declare: {undeclared:?}"
    );
    // Each declared code is given somewhere: named as `codes::NAME`, or re-exported under its own name.
    let source = all_source();
    let unused: Vec<_> = declared
        .iter()
        .filter(|code| {
            !source.contains(&format!("codes::{code}"))
                && !source.contains(&format!("codes::{{{code}"))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "codes declared but never given: {unused:?}"
    );
    let literals = literal_codes_in_source(&declared);
    assert!(
        literals.is_empty(),
        "name the constant of src/codes.rs instead of writing the code: {literals:#?}"
    );
}
