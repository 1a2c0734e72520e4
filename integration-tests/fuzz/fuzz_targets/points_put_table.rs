#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::wire::points_put_table(data));
