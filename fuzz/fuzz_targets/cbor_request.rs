//! Arbitrary bytes as a CBOR request body (the first byte picks the operation),
//! through decode, validation, handlers and encode, against one growing store.
#![no_main]

use std::sync::LazyLock;

use appstream_local::exercise::exercise;
use appstream_local::protocol::Protocol;
use appstream_local::state::Store;
use libfuzzer_sys::fuzz_target;

static STORE: LazyLock<Store> = LazyLock::new(Store::default);

fuzz_target!(|data: &[u8]| {
    if let Err(fault) = exercise(&STORE, Protocol::RpcV2Cbor, data) {
        panic!("server fault: {fault}");
    }
});
