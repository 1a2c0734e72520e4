#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::wire::settlement_submit_record(data));
