//! The vocabulary of the generated shape table, and the compiled form of its patterns.

use std::sync::{LazyLock, OnceLock};

use fancy_regex::Regex;

use crate::generated::shapes::{PATTERNS, SHAPES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShapeId(pub usize);

impl ShapeId {
    pub fn shape(self) -> &'static Shape {
        &SHAPES[self.0]
    }
}

#[derive(Debug)]
pub struct Shape {
    pub name: &'static str,
    /// The model marks the value as sensitive (passwords, user names): never logged.
    pub sensitive: bool,
    pub kind: ShapeKind,
}

#[derive(Debug)]
pub struct Member {
    pub name: &'static str,
    pub target: ShapeId,
    pub required: bool,
}

#[derive(Debug)]
pub enum ShapeKind {
    Structure {
        members: &'static [Member],
        error: bool,
    },
    List {
        member: ShapeId,
        min: Option<i64>,
        max: Option<i64>,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
        min: Option<i64>,
        max: Option<i64>,
    },
    String {
        min: Option<i64>,
        max: Option<i64>,
        /// Index into PATTERNS.
        pattern: Option<usize>,
        enum_values: &'static [&'static str],
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Long {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    Timestamp,
}

/// The model's patterns, each compiled on first use (keeping start-up fast) and anchored
/// at both ends. fancy-regex because the model uses look-behind and Unicode classes such
/// as `\p{L}`.
static COMPILED: LazyLock<Vec<OnceLock<Regex>>> =
    LazyLock::new(|| PATTERNS.iter().map(|_| OnceLock::new()).collect());

fn compiled(index: usize) -> &'static Regex {
    COMPILED[index].get_or_init(|| {
        let p = PATTERNS[index];
        Regex::new(&format!("^(?:{p})$")).unwrap_or_else(|e| panic!("model pattern {p:?}: {e}"))
    })
}

pub fn pattern_source(index: usize) -> &'static str {
    PATTERNS[index]
}

/// Whether `value` satisfies pattern `index`. The pattern must match the whole value, as
/// AWS's services apply them: IAM, for one, rejects `my role` against the unanchored
/// `[\w+=,.@-]+`. Most of the model's patterns carry their own `^...$` anyway.
pub fn pattern_matches(index: usize, value: &str) -> bool {
    // A pattern that cannot finish (backtrack limit) is treated as a mismatch, never a panic.
    compiled(index).is_match(value).unwrap_or(false)
}

/// Compiles every pattern; the test suite calls it so that a pattern the engine cannot
/// take fails there, not in a request.
pub fn compile_all_patterns() -> usize {
    (0..PATTERNS.len()).map(compiled).count()
}
