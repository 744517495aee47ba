//! The output checksum of the board protocol: 32-bit FNV-1a.

/// FNV-1a's 32-bit offset basis.
pub const FNV_OFFSET_BASIS: u32 = 0x811C_9DC5;

/// FNV-1a's 32-bit prime.
pub const FNV_PRIME: u32 = 0x0100_0193;

/// 32-bit FNV-1a of `bytes`.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(FNV_OFFSET_BASIS, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

/// 32-bit FNV-1a of the little-endian bytes of `values`, in order.
pub fn of_f32(values: &[f32]) -> u32 {
    values.iter().fold(FNV_OFFSET_BASIS, |hash, value| {
        value.to_le_bytes().iter().fold(hash, |hash, &byte| {
            (hash ^ u32::from(byte)).wrapping_mul(FNV_PRIME)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_fnv1a32_test_vectors() {
        assert_eq!(fnv1a32(b""), 0x811C_9DC5);
        assert_eq!(fnv1a32(b"a"), 0xE40C_292C);
        assert_eq!(fnv1a32(b"foobar"), 0xBF9C_F968);
    }

    #[test]
    fn f32_checksum_is_over_little_endian_bytes() {
        let values = [1.0_f32, -2.5, f32::from_bits(0x0102_0304)];
        let mut bytes = Vec::new();
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(of_f32(&values), fnv1a32(&bytes));
        assert_eq!(of_f32(&[]), FNV_OFFSET_BASIS);
    }
}
