//! `src/generated/shapes.rs`: the model's shapes as a table the validator reads.

use serde_json::{Map, Value};
use std::fmt::Write as _;

use crate::types::snake_case;
use crate::{Model, HEADER};

pub(crate) fn opt_num(shape: &Map<String, Value>, key: &str) -> String {
    match shape.get(key).and_then(Value::as_i64) {
        Some(n) => format!("Some({n})"),
        None => "None".into(),
    }
}

pub(crate) fn const_name(shape: &str) -> String {
    let snake = snake_case(shape);
    snake.trim_start_matches("r#").to_uppercase()
}

pub(crate) fn gen_shapes(m: &Model) -> String {
    let mut s = String::from(HEADER);
    s.push_str("//! The model's shapes as data: validation and wire encoding walk this table.\n\n");
    s.push_str("use crate::model::schema::{Member, Shape, ShapeId, ShapeKind};\n\n");
    let _ = writeln!(s, "pub static PATTERNS: [&str; {}] = [", m.patterns.len());
    for p in &m.patterns {
        let _ = writeln!(s, "    {:?},", p);
    }
    s.push_str("];\n\n");
    for (name, id) in sorted_ids(m) {
        let _ = writeln!(
            s,
            "pub const {}: ShapeId = ShapeId({id});",
            const_name(name)
        );
    }
    let _ = writeln!(s, "\npub static SHAPES: [Shape; {}] = [", m.shapes.len());
    for (name, shape) in &m.shapes {
        let shape = shape.as_object().unwrap();
        let kind = match shape["type"].as_str().unwrap() {
            "structure" => {
                let required: Vec<&str> = shape
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut members = String::new();
                for (mname, member) in shape["members"].as_object().unwrap() {
                    let target = member["shape"].as_str().unwrap();
                    let _ = write!(
                        members,
                        "Member {{ name: {:?}, target: ShapeId({}), required: {} }}, ",
                        mname,
                        m.ids[target],
                        required.contains(&mname.as_str())
                    );
                }
                format!(
                    "ShapeKind::Structure {{ members: &[{}], error: {} }}",
                    members.trim_end(),
                    shape.contains_key("exception")
                )
            }
            "list" => format!(
                "ShapeKind::List {{ member: ShapeId({}), min: {}, max: {} }}",
                m.ids[shape["member"]["shape"].as_str().unwrap()],
                opt_num(shape, "min"),
                opt_num(shape, "max")
            ),
            "map" => format!(
                "ShapeKind::Map {{ key: ShapeId({}), value: ShapeId({}), min: {}, max: {} }}",
                m.ids[shape["key"]["shape"].as_str().unwrap()],
                m.ids[shape["value"]["shape"].as_str().unwrap()],
                opt_num(shape, "min"),
                opt_num(shape, "max")
            ),
            "string" => {
                let pattern = match shape.get("pattern").and_then(Value::as_str) {
                    Some(p) => format!("Some({})", m.patterns.iter().position(|q| q == p).unwrap()),
                    None => "None".into(),
                };
                let enum_values: Vec<String> = shape
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|e| {
                        e.iter()
                            .map(|v| format!("{:?}", v.as_str().unwrap()))
                            .collect()
                    })
                    .unwrap_or_default();
                format!(
                    "ShapeKind::String {{ min: {}, max: {}, pattern: {}, enum_values: &[{}] }}",
                    opt_num(shape, "min"),
                    opt_num(shape, "max"),
                    pattern,
                    enum_values.join(", ")
                )
            }
            "integer" => format!(
                "ShapeKind::Integer {{ min: {}, max: {} }}",
                opt_num(shape, "min"),
                opt_num(shape, "max")
            ),
            "long" => format!(
                "ShapeKind::Long {{ min: {}, max: {} }}",
                opt_num(shape, "min"),
                opt_num(shape, "max")
            ),
            "boolean" => "ShapeKind::Boolean".into(),
            "timestamp" => "ShapeKind::Timestamp".into(),
            other => panic!("shape {name}: type {other} is not supported by the generator"),
        };
        let sensitive = shape.get("sensitive").and_then(Value::as_bool) == Some(true);
        let _ = writeln!(
            s,
            "    Shape {{ name: {:?}, sensitive: {}, kind: {} }},",
            name, sensitive, kind
        );
    }
    s.push_str("];\n");
    s
}

pub(crate) fn sorted_ids(m: &Model) -> Vec<(&str, usize)> {
    let mut v: Vec<(&str, usize)> = m.ids.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    v.sort_by_key(|(_, id)| *id);
    v
}
