//! The documentation keeps up with the code: every setting is documented in docs/operations.md, and every error
//! code a client can get from the admission checks is in docs/api.md.

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
