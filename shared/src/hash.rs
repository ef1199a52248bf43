//! PostgreSQL's 64-bit text hash (`hashtextextended(text, 0)`, Bob Jenkins'
//! lookup3 as Postgres' `hash_bytes_extended` computes it), so that the core
//! assigns streams to the consumers of a group exactly as the database did
//! before the rule moved here (`tests/vectors/subscriptions.json` checks
//! the two against each other on a live server).

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// Little-endian word of up to four bytes.
fn word(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .enumerate()
        .fold(0u32, |w, (i, &b)| w | (u32::from(b) << (8 * i)))
}

/// `hashtextextended(text, 0)` as Postgres returns it (a signed bigint).
pub fn hash_text(text: &str) -> i64 {
    let key = text.as_bytes();
    // The length is mixed in as Postgres does it: as a 32-bit int.
    let init = 0x9e37_79b9_u32
        .wrapping_add(key.len() as u32)
        .wrapping_add(3_923_095);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = key;
    while rest.len() >= 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    // The last 0..=11 bytes: a takes bytes 0-3, b 4-7, c 8-10 shifted up one
    // byte (its lowest byte is "reserved for the length", unused).
    a = a.wrapping_add(word(&rest[..rest.len().min(4)]));
    if rest.len() > 4 {
        b = b.wrapping_add(word(&rest[4..rest.len().min(8)]));
    }
    if rest.len() > 8 {
        c = c.wrapping_add(word(&rest[8..]) << 8);
    }
    finish(&mut a, &mut b, &mut c);
    ((u64::from(b) << 32) | u64::from(c)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values read from PostgreSQL 15: `SELECT hashtextextended(t, 0)`.
    #[test]
    fn equals_postgres() {
        for (text, want) in [
            ("", HASHES[0]),
            ("a", HASHES[1]),
            ("order-001", HASHES[2]),
            ("abcdefghijkl", HASHES[3]),
            ("abcdefghijklmnopqrstuvwxyz0123", HASHES[4]),
            ("ünïcødé-stream", HASHES[5]),
        ] {
            assert_eq!(hash_text(text), want, "{text:?}");
        }
    }

    const HASHES: [i64; 6] = [
        -6939563903564495251,
        3591986179850072241,
        467658615232986118,
        -7556637188122330412,
        -6220525620039254070,
        6220374842574957714,
    ];
}
