//! The schema as one role sees it: an introspection query run as that role, printed as SDL with only the types
//! its visible operations reach. `orderwatch schema --role ROLE` prints it.

use crate::auth::{Caller, Principal, Role};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const INTROSPECTION: &str = r#"{ __schema { queryType { name } mutationType { name } subscriptionType { name }
  types { kind name description
    fields(includeDeprecated: true) { name description args { name description defaultValue type { ...T } } type { ...T } }
    inputFields { name description defaultValue type { ...T } }
    enumValues(includeDeprecated: true) { name description } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

const BUILT_IN: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn type_ref(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or("?").to_string(),
    }
}

fn named(t: &Value) -> String {
    match t["ofType"].is_object() {
        true => named(&t["ofType"]),
        false => t["name"].as_str().unwrap_or("").to_string(),
    }
}

fn description(out: &mut String, d: &Value, indent: &str) {
    if let Some(d) = d.as_str().filter(|d| !d.is_empty()) {
        out.push_str(&format!(
            "{indent}\"\"\"\n{indent}{}\n{indent}\"\"\"\n",
            d.replace('\n', &format!("\n{indent}"))
        ));
    }
}

/// The SDL of the schema as `role` sees it.
pub async fn sdl_for_role(role: Role) -> Result<String, String> {
    let schema = super::build_schema(None);
    let caller = Caller::from(Principal {
        sub: "schema".into(),
        role,
        agency: "SCHEMA".into(),
        supervisor: false,
    });
    let response = schema
        .execute(async_graphql::Request::new(INTROSPECTION).data(caller))
        .await;
    if !response.errors.is_empty() {
        return Err(format!("introspection failed: {:?}", response.errors));
    }
    let data = response.data.into_json().map_err(|e| e.to_string())?;
    let s = &data["__schema"];
    let types: BTreeMap<String, Value> = s["types"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["name"].as_str().unwrap_or("").to_string(), t.clone()))
        .collect();
    let roots: Vec<String> = ["queryType", "mutationType", "subscriptionType"]
        .iter()
        .filter_map(|r| s[r]["name"].as_str().map(str::to_string))
        .filter(|name| {
            types
                .get(name)
                .is_some_and(|t| t["fields"].as_array().is_some_and(|f| !f.is_empty()))
        })
        .collect();

    let reachable = reachable_from(&roots, &types);
    let mut out = String::new();
    for (name, t) in &types {
        if reachable.contains(name) && !BUILT_IN.contains(&name.as_str()) {
            write_type(&mut out, name, t);
        }
    }
    out.push_str("schema {\n");
    for (key, r) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = s[r]["name"]
            .as_str()
            .filter(|n| roots.iter().any(|x| x == n))
        {
            out.push_str(&format!("\t{key}: {name}\n"));
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// The types reachable from the visible roots, through fields, input fields and arguments.
fn reachable_from(roots: &[String], types: &BTreeMap<String, Value>) -> BTreeSet<String> {
    let mut reachable: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = roots.to_vec();
    while let Some(name) = todo.pop() {
        if name.starts_with("__") || !reachable.insert(name.clone()) {
            continue;
        }
        let Some(t) = types.get(&name) else { continue };
        for f in t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(t["inputFields"].as_array().into_iter().flatten())
        {
            todo.push(named(&f["type"]));
            for a in f["args"].as_array().into_iter().flatten() {
                todo.push(named(&a["type"]));
            }
        }
    }
    reachable
}

/// One type's definition in SDL, with its descriptions.
fn write_type(out: &mut String, name: &str, t: &Value) {
    description(out, &t["description"], "");
    match t["kind"].as_str() {
        Some("SCALAR") => out.push_str(&format!("scalar {name}\n\n")),
        Some("ENUM") => {
            out.push_str(&format!("enum {name} {{\n"));
            for v in t["enumValues"].as_array().into_iter().flatten() {
                description(out, &v["description"], "\t");
                out.push_str(&format!("\t{}\n", v["name"].as_str().unwrap_or("")));
            }
            out.push_str("}\n\n");
        }
        Some("INPUT_OBJECT") => {
            out.push_str(&format!("input {name} {{\n"));
            for f in t["inputFields"].as_array().into_iter().flatten() {
                description(out, &f["description"], "\t");
                let default = f["defaultValue"]
                    .as_str()
                    .map(|d| format!(" = {d}"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "\t{}: {}{default}\n",
                    f["name"].as_str().unwrap_or(""),
                    type_ref(&f["type"])
                ));
            }
            out.push_str("}\n\n");
        }
        _ => {
            out.push_str(&format!("type {name} {{\n"));
            for f in t["fields"].as_array().into_iter().flatten() {
                description(out, &f["description"], "\t");
                let args: Vec<String> = f["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        let default = a["defaultValue"]
                            .as_str()
                            .map(|d| format!(" = {d}"))
                            .unwrap_or_default();
                        format!(
                            "{}: {}{default}",
                            a["name"].as_str().unwrap_or(""),
                            type_ref(&a["type"])
                        )
                    })
                    .collect();
                let args = if args.is_empty() {
                    String::new()
                } else {
                    format!("({})", args.join(", "))
                };
                out.push_str(&format!(
                    "\t{}{args}: {}\n",
                    f["name"].as_str().unwrap_or(""),
                    type_ref(&f["type"])
                ));
            }
            out.push_str("}\n\n");
        }
    }
}
