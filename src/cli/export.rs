//! `editscope export --project ID`: the fixture format, to stdout.

use std::path::PathBuf;

use super::{ExportArgs, open_store, print_json};

pub fn run(db: Option<&PathBuf>, args: ExportArgs) -> anyhow::Result<()> {
    let store = open_store(db)?;
    let file = crate::fixtures::export(&store, &args.project)?;
    print_json(&file)
}
