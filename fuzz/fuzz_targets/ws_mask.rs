//! Differential: the fast unmask agrees with the scalar reference at every offset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::ws::mask;

fuzz_target!(|input: (u8, [u8; 4], Vec<u8>)| {
    let (offset, key, data) = input;
    let (mut fast, mut slow) = (data.clone(), data);
    mask::apply(&mut fast, key, offset as usize);
    mask::apply_scalar(&mut slow, key, offset as usize);
    assert_eq!(fast, slow);
});
