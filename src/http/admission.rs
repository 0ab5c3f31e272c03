//! Document checks that both transports make before a request runs: how deeply the document and its variables
//! nest, and how many fields it aliases. Each refusal has its own code and is made before anything recursive (the
//! GraphQL parser, validation, the alias count) touches the client's text.
//!
//! Nesting is measured without recursion: the GraphQL text is scanned once for `{`, `[` and `(` outside strings and
//! comments, and JSON (variables, the request body, a websocket message) once for `{` and `[` outside strings. A
//! value literal nested about 1,500 deep overflows a worker's stack in async-graphql's parser and aborts the whole
//! process; the default limit (`ORDERWATCH_MAX_NESTING`) is far below that and far above what any real query needs.
//!
//! Past 400 lines with its unit tests (about a third of it): each check is short, and they are kept together so
//! that both transports call one `refuse_document`.

use crate::codes;
use async_graphql::parser::types::{BaseType, ExecutableDocument, Selection, SelectionSet};
use std::collections::HashSet;

/// Code of a `Date` or `DateTime` outside the accepted range (`graphql::scalars::FIRST_DAY` to `LAST_DAY`).
pub use crate::codes::DATE_OUT_OF_RANGE;
/// Code of a document or variables refused for nesting too deeply.
pub use crate::codes::DOCUMENT_TOO_DEEP;
/// Code of a document refused for aliasing too many fields.
pub use crate::codes::TOO_MANY_ALIASES;

/// Deepest nesting of `{`, `[` and `(` in GraphQL text, ignoring strings, block strings and comments. Stops
/// counting once past `stop`, so a hostile document costs one pass at most.
pub fn graphql_nesting(text: &str, stop: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    // Set once a block string was found to have no end: no later `"""` can have one either (its search would run
    // over the same tokens), so each is read at once as the parser reads it, keeping the scan linear.
    let mut unclosed_block = false;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if !unclosed_block && bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next `"""` not escaped as `\"""`. Without one, the parser reads the
                // opening `""` as an empty string and goes on from the third quote: so does this scan.
                let mut j = i + 3;
                while j < bytes.len() && !bytes[j..].starts_with(b"\"\"\"") {
                    j += if bytes[j..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                if j < bytes.len() {
                    i = j + 2;
                } else {
                    unclosed_block = true;
                    i += 1;
                }
            }
            b'"' => {
                // A string ends at its closing quote or, unterminated, at the end of its line (GraphQL strings
                // hold no line terminator, so the parser stops there too).
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > stop {
                    return deepest;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Deepest nesting of `{` and `[` in JSON text, ignoring strings. Stops counting once past `stop`. Text that is
/// not JSON is measured all the same; the JSON parser refuses it afterwards.
pub fn json_nesting(bytes: &[u8], stop: usize) -> usize {
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > stop {
                    return deepest;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// The refusal of JSON that nests deeper than `max` plus `envelope` (the levels of the message around the
/// variables: 2 for an HTTP body `{"variables": {...}}`, 3 for a websocket `subscribe`).
pub fn json_too_deep(bytes: &[u8], max: usize, envelope: usize) -> Option<String> {
    (json_nesting(bytes, max + envelope) > max + envelope).then(|| too_deep(max))
}

/// The refusal of a document whose text nests deeper than `max`.
pub fn document_too_deep(query: &str, max: usize) -> Option<String> {
    (graphql_nesting(query, max) > max).then(|| too_deep(max))
}

fn too_deep(max: usize) -> String {
    format!("brackets in the document or its variables may nest at most {max} deep (ORDERWATCH_MAX_NESTING)")
}

/// The code of an error that async-graphql raised without one, from its message: its own limits get the codes of
/// ours, anything else (parse and validation errors) `GRAPHQL_VALIDATION_FAILED`. The same on both transports.
pub fn code_of_unmapped(message: &str) -> &'static str {
    if message == "Query is nested too deep."
        || message.starts_with("The recursion depth of the query cannot be greater than")
    {
        codes::QUERY_TOO_DEEP
    } else if message == "Query is too complex." {
        codes::QUERY_TOO_COMPLEX
    } else if message.contains(crate::graphql::scalars::OUT_OF_RANGE) {
        DATE_OUT_OF_RANGE
    } else {
        crate::graphql::error::GRAPHQL_VALIDATION_FAILED
    }
}

/// The refusal of a document with a defaulted variable whose type (inside any lists) is not one of the schema's
/// input types (`known`). async-graphql 7.2.1 checks that a variable's type exists only when it is not a list, and
/// then panics ("Type `X` not defined") checking the default value of a list of it; refused here with the message
/// its own check gives (`GRAPHQL_VALIDATION_FAILED`).
pub fn unknown_variable_type(doc: &ExecutableDocument, known: &HashSet<String>) -> Option<String> {
    doc.operations.iter().find_map(|(_, op)| {
        op.node.variable_definitions.iter().find_map(|v| {
            v.node.default_value.as_ref()?;
            let mut ty = &v.node.var_type.node;
            while let BaseType::List(inner) = &ty.base {
                ty = inner;
            }
            match &ty.base {
                BaseType::Named(name) if !known.contains(name.as_str()) => {
                    Some(format!("Unknown type \"{name}\""))
                }
                _ => None,
            }
        })
    })
}

/// The refusal of a subscription whose root selection is a fragment (`subscription { ...F }` or
/// `subscription { ... on SubscriptionRoot { alerts { id } } }`): async-graphql completes such a subscription at once
/// with nothing, no error and no access check, so it is refused before it runs.
pub fn fragment_at_subscription_root(doc: &ExecutableDocument) -> Option<String> {
    use async_graphql::parser::types::OperationType;
    doc.operations
        .iter()
        .filter(|(_, op)| op.node.ty == OperationType::Subscription)
        .flat_map(|(_, op)| op.node.selection_set.node.items.iter())
        .any(|s| !matches!(s.node, Selection::Field(_)))
        .then(|| "a subscription names its field at its root, not through a fragment".to_string())
}

/// How many fields a document selects once every fragment spread is expanded, computed once per fragment (no
/// expansion): `None` when fragments spread each other in a cycle. async-graphql's own complexity check expands
/// spreads, so a chain of fragments each spreading the next twice (30 of them, about 1 KB) cost it 2^30 steps and
/// held a worker for good; this count is linear in the document.
pub fn expanded_fields(doc: &ExecutableDocument) -> Option<u64> {
    /// Fields of a selection set (not through spreads), and the fragments it spreads, with repeats.
    fn direct<'a>(set: &'a SelectionSet, spreads: &mut Vec<&'a str>) -> u64 {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => 1 + direct(&f.node.selection_set.node, spreads),
                Selection::InlineFragment(i) => direct(&i.node.selection_set.node, spreads),
                Selection::FragmentSpread(f) => {
                    spreads.push(f.node.fragment_name.node.as_str());
                    0
                }
            })
            .fold(0u64, u64::saturating_add)
    }
    let mut parts: std::collections::HashMap<&str, (u64, Vec<&str>)> = Default::default();
    for (name, fragment) in &doc.fragments {
        let mut spreads = vec![];
        let fields = direct(&fragment.node.selection_set.node, &mut spreads);
        parts.insert(name.as_str(), (fields, spreads));
    }
    // Post-order over the spread graph with an explicit stack (a chain of 20,000 fragments is 20,000 deep).
    let mut total: std::collections::HashMap<&str, u64> = Default::default();
    let mut on_path: HashSet<&str> = HashSet::new();
    for start in parts.keys().copied() {
        if total.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        on_path.insert(start);
        while let Some((name, next)) = stack.pop() {
            let spreads = parts.get(name).map(|(_, s)| s.as_slice()).unwrap_or(&[]);
            if let Some(child) = spreads.get(next).copied() {
                stack.push((name, next + 1));
                if total.contains_key(child) || !parts.contains_key(child) {
                    continue;
                }
                if !on_path.insert(child) {
                    return None;
                }
                stack.push((child, 0));
                continue;
            }
            let own = parts.get(name).map(|(f, _)| *f).unwrap_or(0);
            let sum = spreads
                .iter()
                .map(|c| total.get(c).copied().unwrap_or(0))
                .fold(own, u64::saturating_add);
            total.insert(name, sum);
            on_path.remove(name);
        }
    }
    let mut fields = 0u64;
    for (_, op) in doc.operations.iter() {
        let mut spreads = vec![];
        let own = direct(&op.node.selection_set.node, &mut spreads);
        let sum = spreads
            .iter()
            .map(|c| total.get(c).copied().unwrap_or(0))
            .fold(own, u64::saturating_add);
        fields = fields.saturating_add(sum);
    }
    Some(fields)
}

/// The refusal of a document whose fields, spreads expanded, are more than `max` (`QUERY_TOO_COMPLEX`), or whose
/// fragments spread each other in a cycle (`GRAPHQL_VALIDATION_FAILED`).
pub fn too_complex(doc: &ExecutableDocument, max: usize) -> Option<(&'static str, String)> {
    match expanded_fields(doc) {
        None => Some((
            crate::graphql::error::GRAPHQL_VALIDATION_FAILED,
            "fragments spread each other in a cycle".into(),
        )),
        Some(n) if n > max as u64 => Some((
            codes::QUERY_TOO_COMPLEX,
            format!("the document selects {n} fields once its fragments are expanded, more than {max} (ORDERWATCH_MAX_COMPLEXITY)"),
        )),
        Some(_) => None,
    }
}

/// The limits the checks of a parsed document apply.
#[derive(Debug, Clone)]
pub struct DocumentLimits {
    pub max_aliases: usize,
    pub max_complexity: usize,
    /// The types a variable may have.
    pub input_types: std::sync::Arc<HashSet<String>>,
    /// The schema's root fields, which label a request (`label`).
    pub root_fields: std::sync::Arc<HashSet<String>>,
}

/// The name a request is known by in logs, metrics and the audit log: the root field its operation selects first,
/// when the schema has it (`other` otherwise). A client's own operation name is its text, and could be anything.
pub fn label(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    roots: &HashSet<String>,
) -> String {
    let op = match (&doc.operations, operation_name) {
        (async_graphql::parser::types::DocumentOperations::Single(op), _) => Some(op),
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), Some(n)) => ops.get(n),
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), None) => {
            ops.values().next()
        }
    };
    op.and_then(|op| {
        op.node
            .selection_set
            .node
            .items
            .iter()
            .find_map(|s| match &s.node {
                Selection::Field(f) => Some(f.node.name.node.to_string()),
                _ => None,
            })
    })
    .filter(|name| roots.contains(name))
    .unwrap_or_else(|| "other".into())
}

/// Every check of a parsed document that both transports make before async-graphql validates it: the code and
/// message of the first that refuses it.
pub fn refuse_document(
    doc: &ExecutableDocument,
    limits: &DocumentLimits,
) -> Option<(&'static str, String)> {
    use crate::graphql::error::GRAPHQL_VALIDATION_FAILED;
    too_many_aliases(doc, limits.max_aliases)
        .map(|r| (TOO_MANY_ALIASES, r))
        .or_else(|| too_complex(doc, limits.max_complexity))
        .or_else(|| {
            unknown_variable_type(doc, &limits.input_types)
                .or_else(|| fragment_at_subscription_root(doc))
                .map(|r| (GRAPHQL_VALIDATION_FAILED, r))
        })
}

/// Aliased fields in a document (operations and fragment definitions). Recursive over selection sets, whose depth
/// [`document_too_deep`] has already bounded.
fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node)
                }
                Selection::InlineFragment(i) => walk(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    doc.operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .sum::<usize>()
        + doc
            .fragments
            .values()
            .map(|f| walk(&f.node.selection_set.node))
            .sum::<usize>()
}

/// Why a document is refused for aliasing more fields than `max` (`ORDERWATCH_MAX_ALIASES`), over HTTP and
/// websockets alike: `TOO_MANY_ALIASES`, before anything runs.
pub fn too_many_aliases(doc: &ExecutableDocument, max: usize) -> Option<String> {
    (count_aliases(doc) > max).then(|| format!("a document may alias at most {max} fields"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_nesting_counts_brackets_outside_strings_and_comments() {
        assert_eq!(graphql_nesting("{ a }", 100), 1);
        assert_eq!(graphql_nesting("{ a(x: [[1]]) { b } }", 100), 4);
        assert_eq!(graphql_nesting("{ a(x: \"[[[[\") }", 100), 2);
        assert_eq!(graphql_nesting("{ a(x: \"\\\"[[[\") }", 100), 2);
        assert_eq!(
            graphql_nesting("{ a(x: \"\"\"[[[ \\\"\"\" [[\"\"\") }", 100),
            2
        );
        assert_eq!(graphql_nesting("# [[[[\n{ a }", 100), 1);
        assert_eq!(graphql_nesting("# [[[[\r{ a }", 100), 1);
        assert_eq!(graphql_nesting("{ a(x: \"unterminated\r[[[[", 100), 6);
        assert_eq!(graphql_nesting("]]]] { a }", 100), 1);
        assert_eq!(graphql_nesting("", 100), 0);
    }

    #[test]
    fn graphql_nesting_stops_past_the_limit() {
        let deep = "[".repeat(1_000_000);
        assert_eq!(graphql_nesting(&deep, 64), 65);
    }

    #[test]
    fn a_block_string_without_an_end_is_read_as_the_parser_reads_it() {
        // The parser reads `""` (empty), then `" "`, then the list: so must the scan, or brackets hide from it.
        let hidden = format!(
            "{{ a(x: [\"\"\" \" {}1{} ]) }}",
            "[".repeat(2000),
            "]".repeat(2000)
        );
        assert!(graphql_nesting(&hidden, 64) > 64);
        // Many escaped quotes after an unclosed block string: each `"""` is read at once (a search to the end for
        // each would make a 1 MB body cost about 10^11 steps).
        let many = format!("\"\"\" {}", "\\\"\"\" ".repeat(200_000));
        assert_eq!(graphql_nesting(&many, 64), 0);
        // A closed block string still hides what it holds.
        assert_eq!(
            graphql_nesting("{ a(x: \"\"\"[[[ \\\"\"\" [[\"\"\") }", 100),
            2
        );
    }

    #[test]
    fn an_unterminated_string_or_block_string_ends_the_scan() {
        assert_eq!(graphql_nesting("{ a(x: \"[[[", 100), 2);
        assert_eq!(graphql_nesting("\"\\", 100), 0);
        assert_eq!(json_nesting(b"[\"\\", 100), 1);
    }

    #[test]
    fn json_nesting_counts_brackets_outside_strings() {
        assert_eq!(
            json_nesting(br#"{"query": "{ a }", "variables": {"x": [[1]]}}"#, 100),
            4
        );
        assert_eq!(json_nesting(br#"{"q": "[[[\"[["}"#, 100), 1);
        assert_eq!(json_nesting(b"[[[[", 2), 3);
    }

    #[test]
    fn a_defaulted_variable_of_a_list_of_an_unknown_type_is_refused() {
        let known: HashSet<String> = ["String".to_string()].into();
        let refused = |text: &str| {
            unknown_variable_type(&async_graphql::parser::parse_query(text).unwrap(), &known)
        };
        assert_eq!(
            refused("query($v: [[Str!]] = [[\"x\"]]) { a }").as_deref(),
            Some("Unknown type \"Str\"")
        );
        assert_eq!(refused("query($v: [String] = [\"x\"]) { a }"), None);
        assert_eq!(
            refused("query($v: Str = 1) { a }").as_deref(),
            Some("Unknown type \"Str\"")
        );
        // Without a default value, async-graphql reports the unknown type itself.
        assert_eq!(refused("query($v: [Str]) { a }"), None);
    }

    #[test]
    fn fields_are_counted_with_fragments_expanded_without_expanding_them() {
        let parse = |t: &str| async_graphql::parser::parse_query(t).unwrap();
        assert_eq!(
            expanded_fields(&parse("{ a b { c } ... on Q { d } }")),
            Some(4)
        );
        assert_eq!(
            expanded_fields(&parse(
                "{ ...F ...F } fragment F on Q { a b { ...G } } fragment G on Q { c }"
            )),
            Some(6)
        );
        // Each fragment spreading the next twice, 40 deep: 2^40 fields, counted at once.
        let mut text = String::from("{ ...F0 }\n");
        for i in 0..40 {
            text.push_str(&format!(
                "fragment F{i} on Q {{ ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        text.push_str("fragment F40 on Q { me }");
        assert_eq!(expanded_fields(&parse(&text)), Some(1u64 << 40));
        assert_eq!(
            expanded_fields(&parse(
                "{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }"
            )),
            None
        );
        assert_eq!(expanded_fields(&parse("{ ...Missing a }")), Some(1));
    }

    #[test]
    fn the_envelope_is_allowed_on_top_of_the_limit() {
        let body = |n: usize| {
            format!(
                "{{\"variables\": {{\"x\": {}{}}}}}",
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        assert!(json_too_deep(body(8).as_bytes(), 8, 2).is_none());
        assert!(json_too_deep(body(9).as_bytes(), 8, 2).is_some());
    }
}
