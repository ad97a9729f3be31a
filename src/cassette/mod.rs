//! Cassettes: every HTTP exchange of a recorded run (`whisk record`), secrets and tokens masked,
//! and the offline replay of a recipe against them (`whisk test`), whose normalised report is
//! compared with a snapshot stored beside the cassette.

mod model;
mod paths;
mod player;
mod recorder;
mod snapshot;

pub use model::{Body, Cassette, FORMAT_VERSION, Interaction, RecordedRequest, RecordedResponse};
pub use paths::{cassette_for, find_cassettes, recipe_of, relative, snapshot_for};
pub use player::{Player, Replayed};
pub use recorder::{Recorder, Sent};
pub use snapshot::{diff, normalize};
