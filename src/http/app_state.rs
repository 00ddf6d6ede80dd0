//! What every route shares: the store, the test controls' state, the journal and the
//! settings.

use std::sync::Arc;

use crate::config::Config;
use crate::controls::faults::Faults;
use crate::controls::history::History;
use crate::durability::Journal;
use crate::state::Store;

#[derive(Clone)]
pub(super) struct AppState {
    pub(super) store: Arc<Store>,
    pub(super) faults: Arc<Faults>,
    pub(super) history: Arc<History>,
    /// With `--state-dir`, where every acknowledged write goes before it is answered.
    pub(super) journal: Option<Arc<Journal>>,
    pub(super) config: Arc<Config>,
    /// Turns for the big answers, so that only so many are written at once.
    pub(super) big_answers: crate::http::big_answer::Turns,
}
