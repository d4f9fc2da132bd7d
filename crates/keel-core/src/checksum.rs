//! Migration checksums: SHA-256 of `migration.sql`'s bytes, lowercase hex (Prisma's rule).

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes` as 64 lowercase hex characters, with no normalisation.
///
/// Same value Prisma Migrate stores in `_prisma_migrations.checksum`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The checksum of `bytes` with its line endings swapped: CRLF → LF when the file holds any
/// CRLF, else LF → CRLF. Returns `None` when the file has no line ending at all (the swap is a
/// no-op).
///
/// Used so that a checkout with `core.autocrlf` does not read as a modified migration: Prisma
/// accepts either form too.
pub fn swapped_line_endings_sha256_hex(bytes: &[u8]) -> Option<String> {
    if !bytes.contains(&b'\n') {
        return None;
    }
    let has_crlf = bytes.windows(2).any(|w| w == b"\r\n");
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    if has_crlf {
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
    } else {
        for &b in bytes {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
    }
    Some(sha256_hex(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn swapped_variant_matches_the_other_form() {
        let lf = b"CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
        let crlf = b"CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n";
        assert_eq!(swapped_line_endings_sha256_hex(lf), Some(sha256_hex(crlf)));
        assert_eq!(swapped_line_endings_sha256_hex(crlf), Some(sha256_hex(lf)));
        assert_eq!(swapped_line_endings_sha256_hex(b"select 1"), None);
    }
}
