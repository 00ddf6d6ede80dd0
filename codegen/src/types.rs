//! `src/generated/types.rs`: a Rust type per structure and enum of the model.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::{Model, HEADER};

pub(crate) const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    if KEYWORDS.contains(&out.as_str()) {
        format!("r#{out}")
    } else {
        out
    }
}

pub(crate) fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for part in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut cs = part.chars();
        if let Some(first) = cs.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(cs.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// The Rust type a member of shape `target` has in the generated structs.
pub(crate) fn rust_type(m: &Model, target: &str) -> String {
    match m.kind(target) {
        "structure" => target.to_string(),
        "string" if m.is_enum(target) => target.to_string(),
        "string" => "String".into(),
        "list" | "map" => {
            let inner = match m.kind(target) {
                "list" => m.shape(target)["member"]["shape"].as_str().unwrap(),
                _ => m.shape(target)["value"]["shape"].as_str().unwrap(),
            };
            // Only struct members carry the timestamp marker the CBOR writer needs.
            assert!(
                m.kind(inner) != "timestamp",
                "shape {target}: timestamps inside lists and maps are not marked for CBOR"
            );
            match m.kind(target) {
                "list" => format!("Vec<{}>", rust_type(m, inner)),
                _ => format!("BTreeMap<String, {}>", rust_type(m, inner)),
            }
        }
        "integer" => "i32".into(),
        "long" => "i64".into(),
        "boolean" => "bool".into(),
        "timestamp" => "Timestamp".into(),
        other => panic!("shape {target}: type {other} is not supported by the generator"),
    }
}

/// Whether a value of `target` has a meaningful empty default, so that structs made of
/// such members can derive Default (enums deliberately have none).
pub(crate) fn has_default(m: &Model, target: &str, memo: &mut BTreeMap<String, bool>) -> bool {
    if let Some(v) = memo.get(target) {
        return *v;
    }
    memo.insert(target.to_string(), true); // recursion guard
    let v = match m.kind(target) {
        "string" => !m.is_enum(target),
        "structure" => {
            let shape = m.shape(target);
            let required = m.required_in_type(target);
            shape["members"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(name, _)| required.contains(&name.as_str()))
                .all(|(_, member)| has_default(m, member["shape"].as_str().unwrap(), memo))
        }
        _ => true,
    };
    memo.insert(target.to_string(), v);
    v
}

pub(crate) fn gen_types(m: &Model) -> String {
    let mut s = String::from(HEADER);
    s.push_str(
        "//! The model's structures and enums as Rust types, serialized with the model's member names.\n\n\
         #![allow(clippy::all)]\n\n\
         use serde::{Deserialize, Serialize};\nuse std::collections::BTreeMap;\n\n\
         /// Epoch seconds, as both wire protocols carry timestamps.\npub type Timestamp = f64;\n",
    );
    let mut memo = BTreeMap::new();
    for (name, shape) in &m.shapes {
        let shape = shape.as_object().unwrap();
        match shape["type"].as_str().unwrap() {
            "string" if shape.contains_key("enum") => {
                let values: Vec<&str> = shape["enum"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                let _ = writeln!(
                    s,
                    "\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]\npub enum {name} {{"
                );
                for v in &values {
                    let _ = writeln!(
                        s,
                        "    #[serde(rename = {:?})]\n    {},",
                        v,
                        variant_name(v)
                    );
                }
                s.push_str("}\n");
                let _ = writeln!(
                    s,
                    "\nimpl {name} {{\n    pub const ALL: [{name}; {}] = [",
                    values.len()
                );
                for v in &values {
                    let _ = writeln!(s, "        {name}::{},", variant_name(v));
                }
                s.push_str(
                    "    ];\n\n    pub fn as_str(self) -> &'static str {\n        match self {\n",
                );
                for v in &values {
                    let _ = writeln!(s, "            {name}::{} => {:?},", variant_name(v), v);
                }
                s.push_str("        }\n    }\n}\n");
            }
            "structure" if !shape.contains_key("exception") => {
                let required = m.required_in_type(name);
                let default = if has_default(m, name, &mut memo) {
                    ", Default"
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    "\n#[derive(Debug, Clone, PartialEq, Serialize, Deserialize{default})]\npub struct {name} {{"
                );
                for (mname, member) in shape["members"].as_object().unwrap() {
                    let target = member["shape"].as_str().unwrap();
                    let ty = rust_type(m, target);
                    let field = snake_case(mname);
                    // CBOR tags timestamps; the marker tells its writer which numbers are.
                    let timestamp = m.kind(target) == "timestamp";
                    if required.contains(&mname.as_str()) {
                        let with = if timestamp {
                            ", serialize_with = \"crate::protocol::timestamp::serialize\""
                        } else {
                            ""
                        };
                        let _ = writeln!(
                            s,
                            "    #[serde(rename = {mname:?}{with})]\n    pub {field}: {ty},"
                        );
                    } else {
                        let with = if timestamp {
                            ", serialize_with = \"crate::protocol::timestamp::serialize_option\""
                        } else {
                            ""
                        };
                        let _ = writeln!(
                            s,
                            "    #[serde(rename = {mname:?}, default, skip_serializing_if = \"Option::is_none\"{with})]\n    pub {field}: Option<{ty}>,"
                        );
                    }
                }
                s.push_str("}\n");
            }
            _ => {}
        }
    }
    s
}
