//! Replays the fuzzing corpus (fixtures/fuzz/): every input the fuzzers found
//! interesting must be answered without a server fault or a panic.

use appstream_local::exercise::exercise;
use appstream_local::protocol::Protocol;
use appstream_local::state::Store;

fn replay(dir: &str, protocol: Protocol) -> usize {
    let path = format!("{}/fixtures/fuzz/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let store = Store::default();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        if let Err(fault) = exercise(&store, protocol, &data) {
            panic!("{}: server fault: {fault}", file.display());
        }
    }
    files.len()
}

#[test]
fn json_corpus_replays_cleanly() {
    assert!(replay("json", Protocol::AwsJson11) > 20);
}

#[test]
fn cbor_corpus_replays_cleanly() {
    assert!(replay("cbor", Protocol::RpcV2Cbor) > 20);
}
