//! `src/generated/operations.rs`, `errors.rs` and `overlay.rs`: an operation type per
//! operation with its mode, the modeled errors, and the overlay's corrections.

use serde_json::Value;
use std::fmt::Write as _;

use crate::{Model, HEADER};

/// The operation's mode type: Describe, List and Get operations read, the overlay names
/// the few others that do, those that write two Regions and those that read other
/// accounts, and the rest write.
pub(crate) fn mode(name: &str, overlay: &Value) -> &'static str {
    let spans = overlay["access"]["spans_regions"]
        .as_array()
        .expect("access.spans_regions");
    if spans.iter().any(|r| r.as_str() == Some(name)) {
        return "WritesTwoRegions";
    }
    let across = overlay["access"]["reads_across_accounts"]
        .as_array()
        .expect("access.reads_across_accounts");
    if across.iter().any(|r| r.as_str() == Some(name)) {
        return "ReadsAcrossAccounts";
    }
    let writes_reading = overlay["access"]["writes_reading_accounts"]
        .as_array()
        .expect("access.writes_reading_accounts");
    if writes_reading.iter().any(|r| r.as_str() == Some(name)) {
        return "WritesReadingAccounts";
    }
    match access(name, overlay) {
        "Read" => "Reads",
        _ => "Writes",
    }
}

/// Describe, List and Get operations read; the overlay names the few others that do.
pub(crate) fn access(name: &str, overlay: &Value) -> &'static str {
    let reads = overlay["access"]["reads"].as_array().expect("access.reads");
    let listed = reads.iter().any(|r| r.as_str() == Some(name));
    if listed
        || ["Describe", "List", "Get"]
            .iter()
            .any(|p| name.starts_with(p))
    {
        "Read"
    } else {
        "Write"
    }
}

pub(crate) fn gen_operations(m: &Model, overlay: &Value) -> String {
    let mut s = String::from(HEADER);
    s.push_str(
        "//! Every operation of the model, with its input and output shapes, and each one as a\n",
    );
    s.push_str("//! type that binds its input, output, access and errors.\n\n");
    s.push_str("use crate::generated::errors::ModeledError;\n");
    s.push_str("use crate::model::schema::ShapeId;\n\n");
    s.push_str(
        "/// The mode of an operation that only reads.\n\
         pub struct Reads;\n\
         /// The mode of an operation that changes state.\n\
         pub struct Writes;\n\
         /// The mode of an operation that changes two Regions' state at once.\n\
         pub struct WritesTwoRegions;\n\
         /// The mode of an operation that reads every account's state in the caller's Region.\n\
         pub struct ReadsAcrossAccounts;\n\
         /// The mode of an operation that writes the caller's state and reads the other\n\
         /// accounts' in its Region.\n\
         pub struct WritesReadingAccounts;\n\n\
         /// An operation as a type: a handler bound to it takes its input and returns its\n\
         /// output, so a handler bound to another operation does not compile.\n\
         pub trait OperationShape {\n\
         \x20   const OPERATION: Operation;\n\
         \x20   /// `Reads` or `Writes`: which kind of handler serves it.\n\
         \x20   type Mode;\n\
         \x20   type Input: serde::de::DeserializeOwned;\n\
         \x20   type Output: serde::Serialize;\n\
         }\n\n",
    );
    s.push_str("/// One type per operation of the model.\npub mod op {\n    use super::*;\n    use crate::generated::types;\n\n");
    for (name, op) in &m.operations {
        let input = op["input"]["shape"].as_str().unwrap();
        let output = op["output"]["shape"].as_str().unwrap();
        let _ = writeln!(
            s,
            "    pub struct {name};\n    impl OperationShape for {name} {{\n        const OPERATION: Operation = Operation::{name};\n        type Mode = {};\n        type Input = types::{input};\n        type Output = types::{output};\n    }}\n",
            mode(name, overlay)
        );
    }
    s.push_str("}\n\n");
    s.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum Operation {\n");
    for name in m.operations.keys() {
        let _ = writeln!(s, "    {name},");
    }
    s.push_str("}\n\n");
    let _ = writeln!(
        s,
        "impl Operation {{\n    pub const ALL: [Operation; {}] = [",
        m.operations.len()
    );
    for name in m.operations.keys() {
        let _ = writeln!(s, "        Operation::{name},");
    }
    s.push_str("    ];\n\n    pub fn name(self) -> &'static str {\n        match self {\n");
    for name in m.operations.keys() {
        let _ = writeln!(s, "            Operation::{name} => {name:?},");
    }
    s.push_str("        }\n    }\n\n    pub fn from_name(name: &str) -> Option<Operation> {\n        match name {\n");
    for name in m.operations.keys() {
        let _ = writeln!(s, "            {name:?} => Some(Operation::{name}),");
    }
    s.push_str("            _ => None,\n        }\n    }\n\n");
    for (label, key) in [("input", "input"), ("output", "output")] {
        let _ = writeln!(
            s,
            "    pub fn {label}(self) -> ShapeId {{\n        match self {{"
        );
        for (name, op) in &m.operations {
            let shape = op[key]["shape"].as_str().unwrap();
            let _ = writeln!(
                s,
                "            Operation::{name} => ShapeId({}),",
                m.ids[shape]
            );
        }
        s.push_str("        }\n    }\n\n");
    }
    s.push_str("    /// The errors the model (with its overlay) lists for this operation.\n");
    s.push_str("    pub fn errors(self) -> &'static [ModeledError] {\n        match self {\n");
    for (name, op) in &m.operations {
        let errs: Vec<String> = op
            .get("errors")
            .and_then(Value::as_array)
            .map(|e| {
                e.iter()
                    .map(|e| format!("ModeledError::{}", e["shape"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "            Operation::{name} => &[{}],",
            errs.join(", ")
        );
    }
    s.push_str("        }\n    }\n}\n");
    s
}

pub(crate) fn gen_errors(m: &Model) -> String {
    let mut s = String::from(HEADER);
    s.push_str("//! The model's error shapes and the HTTP status each one carries.\n\n");
    s.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum ModeledError {\n");
    let errors: Vec<(&String, u64)> = m
        .shapes
        .iter()
        .filter(|(name, _)| m.is_error(name))
        .map(|(name, shape)| {
            let status = shape
                .get("error")
                .and_then(|e| e.get("httpStatusCode"))
                .and_then(Value::as_u64)
                .unwrap_or(400);
            (name, status)
        })
        .collect();
    for (name, _) in &errors {
        let _ = writeln!(s, "    {name},");
    }
    s.push_str(
        "}\n\nimpl ModeledError {\n    pub fn code(self) -> &'static str {\n        match self {\n",
    );
    for (name, _) in &errors {
        let _ = writeln!(s, "            ModeledError::{name} => {name:?},");
    }
    s.push_str("        }\n    }\n\n    pub fn status(self) -> u16 {\n        match self {\n");
    for (name, status) in &errors {
        let _ = writeln!(s, "            ModeledError::{name} => {status},");
    }
    s.push_str("        }\n    }\n\n    /// The modeled error whose code is `code`.\n    pub fn from_code(code: &str) -> Option<Self> {\n        match code {\n");
    for (name, _) in &errors {
        let _ = writeln!(s, "            {name:?} => Some(ModeledError::{name}),");
    }
    s.push_str("            _ => None,\n        }\n    }\n}\n");
    s
}

/// The overlay's facts as constants, each with its source as the doc comment.
pub(crate) fn gen_overlay(overlay: &Value) -> String {
    let mut s = String::from(
        "// @generated by appstream-local-codegen from model/overlay.json. Do not edit.\n",
    );
    s.push_str("//! Facts the model tells only in prose, from `model/overlay.json`.\n\n");
    for entry in overlay["instance_types"]
        .as_array()
        .expect("instance_types")
    {
        let name = entry["name"].as_str().expect("name");
        let operations: Vec<&str> = entry["operations"]
            .as_array()
            .expect("operations")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let _ = writeln!(s, "/// Instance types of {}.", operations.join(", "));
        let _ = writeln!(
            s,
            "///\n/// Source: {}",
            entry["source"].as_str().expect("source")
        );
        let _ = writeln!(s, "pub const {name}_INSTANCE_TYPES: &[&str] = &[");
        for t in entry["types"].as_array().expect("types") {
            let _ = writeln!(s, "    {:?},", t.as_str().expect("type"));
        }
        s.push_str("];\n\n");
    }
    let families = &overlay["instance_families"];
    let _ = writeln!(
        s,
        "/// Instance type prefix -> instance family.\n///\n/// Source: {}",
        families["source"].as_str().expect("source")
    );
    s.push_str("pub const INSTANCE_FAMILY_PREFIXES: &[(&str, &str)] = &[\n");
    for pair in families["prefixes"].as_array().expect("prefixes") {
        let _ = writeln!(
            s,
            "    ({:?}, {:?}),",
            pair[0].as_str().expect("prefix"),
            pair[1].as_str().expect("family")
        );
    }
    s.push_str("];\n\n");
    let taggable = &overlay["taggable_resource_types"];
    let _ = writeln!(
        s,
        "/// The ARN resource types TagResource accepts.\n///\n/// Source: {}",
        taggable["source"].as_str().expect("source")
    );
    s.push_str("pub const TAGGABLE_RESOURCE_TYPES: &[&str] = &[\n");
    for t in taggable["types"].as_array().expect("types") {
        let _ = writeln!(s, "    {:?},", t.as_str().expect("type"));
    }
    s.push_str("];\n\n");
    let software = &overlay["license_included_software"];
    let _ = writeln!(
        s,
        "/// The license-included applications an image builder can be given.\n///\n/// Source: {}",
        software["source"].as_str().expect("source")
    );
    s.push_str("pub const LICENSE_INCLUDED_SOFTWARE: &[&str] = &[\n");
    for name in software["names"].as_array().expect("names") {
        let _ = writeln!(s, "    {:?},", name.as_str().expect("name"));
    }
    s.push_str("];\n");
    s
}
