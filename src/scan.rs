//! Finding bytes in text a word, or sixteen bytes, at a time: the separators and encodings a
//! form parser looks for, the bytes percent-encoding must escape, single characters of a URI.
//! SSE2 (part of every x86-64 processor) where there is one, exact SWAR or byte tables elsewhere.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The top bit of every byte of `w` that is one of `set`. Exact byte by byte: adding `0x7f` to
/// a byte's low seven bits sets its top bit unless all seven are zero, and never carries into
/// the next byte (unlike the shorter subtracting test, whose borrow can mark the byte above a
/// match).
pub(crate) fn byte_hits<const K: usize>(w: u64, set: [u8; K]) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let nonzero = set.iter().fold(HIGH, |all, &b| {
        let x = w ^ (ONES * u64::from(b));
        all & ((x & LOW).wrapping_add(LOW) | x)
    });
    !nonzero & HIGH
}

/// The index of the first byte of `set` in `bytes` at or after `i`, or `bytes.len()`. Eight
/// bytes at a time; the last few in one word too, as the end of the last eight of the input with
/// the bytes before `i` masked out.
pub(crate) fn find_any<const K: usize>(bytes: &[u8], mut i: usize, set: [u8; K]) -> usize {
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let hits = byte_hits(u64::from_le_bytes(*word), set);
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    if i >= bytes.len() {
        return bytes.len();
    }
    let Some(last) = bytes.last_chunk::<8>() else {
        // Shorter than a word.
        return i + bytes[i..].iter().take_while(|b| !set.contains(b)).count();
    };
    let before = 8 - (bytes.len() - i);
    let hits = byte_hits(u64::from_le_bytes(*last), set) & (u64::MAX << (8 * before));
    if hits == 0 {
        bytes.len()
    } else {
        bytes.len() - 8 + (hits.trailing_zeros() / 8) as usize
    }
}

/// The bytes a form parser must look at: separators and the start of an encoding.
const SPECIAL: [u8; 4] = [b'&', b'=', b'+', b'%'];

/// A mask of which of the sixteen bytes from `base` on (fewer at the end of the input) are
/// [`SPECIAL`]: bit `k` for `bytes[base + k]`.
pub(crate) fn specials_at(bytes: &[u8], base: usize) -> u32 {
    mask_at(bytes, base, specials16)
}

/// What `block` says of the sixteen bytes from `base` on (fewer at the end of the input), bit
/// `k` for `bytes[base + k]`: a block of the input where there is one, else the last sixteen
/// bytes shifted past the ones already seen, else (short input) the bytes padded with zeros,
/// whose bits are dropped.
#[inline(always)]
pub(crate) fn mask_at(bytes: &[u8], base: usize, block: impl Fn(&[u8; 16]) -> u32) -> u32 {
    if let Some(chunk) = bytes.get(base..).and_then(<[u8]>::first_chunk::<16>) {
        return block(chunk);
    }
    let left = bytes.len() - base;
    match bytes.last_chunk::<16>() {
        Some(last) => block(last) >> (16 - left),
        None => {
            let mut chunk = [0u8; 16];
            for (c, b) in chunk.iter_mut().zip(&bytes[base..]) {
                *c = *b;
            }
            block(&chunk) & ((1 << left) - 1)
        }
    }
}

/// [`specials_at`] for one block of sixteen bytes: SSE2, which every x86-64 processor has, or
/// two words of eight bytes elsewhere.
fn specials16(chunk: &[u8; 16]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline, so the target feature is always present.
        unsafe { sse2::specials16(chunk) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        specials16_words(chunk)
    }
}

/// Which of sixteen bytes [`encode_into`](crate::form::encode_into) must encode: all but the RFC 3986 unreserved ones.
pub(crate) fn reserved16(chunk: &[u8; 16]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of the x86_64 baseline, so the target feature is always present.
        unsafe { sse2::reserved16(chunk) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        reserved16_bytes(chunk)
    }
}

#[cfg(any(test, not(target_arch = "x86_64")))]
fn reserved16_bytes(chunk: &[u8; 16]) -> u32 {
    (0..16).fold(0, |m, k| {
        m | u32::from(!UNRESERVED[usize::from(chunk[k])]) << k
    })
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// Bytes from `lo` to `hi`: `x - lo` is at most `hi - lo` (unsigned) exactly for them.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn within(x: __m128i, lo: u8, hi: u8) -> __m128i {
        let d = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
        _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((hi - lo) as i8)), d)
    }

    /// Digits, letters (either case, folded to lower by setting 0x20), `-`, `.`, `_` and `~`
    /// pass; the mask marks the rest.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn reserved16(chunk: &[u8; 16]) -> u32 {
        let (lo, hi) = chunk.split_at(8);
        let word = |half: &[u8]| i64::from_le_bytes(half.try_into().unwrap_or_default());
        let v = _mm_set_epi64x(word(hi), word(lo));
        let letter = within(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
        let digit = within(v, b'0', b'9');
        let dash_dot = within(v, b'-', b'.');
        let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
        let tilde = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'~' as i8));
        let pass = _mm_or_si128(
            _mm_or_si128(letter, digit),
            _mm_or_si128(dash_dot, _mm_or_si128(underscore, tilde)),
        );
        !(_mm_movemask_epi8(pass) as u32) & 0xffff
    }

    /// Four byte-wise comparisons and a movemask.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn specials16(chunk: &[u8; 16]) -> u32 {
        let (lo, hi) = chunk.split_at(8);
        let word = |half: &[u8]| i64::from_le_bytes(half.try_into().unwrap_or_default());
        let v = _mm_set_epi64x(word(hi), word(lo));
        let [a, b, c, d] = super::SPECIAL.map(|s| _mm_cmpeq_epi8(v, _mm_set1_epi8(s as i8)));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) as u32
    }
}

#[cfg(any(test, not(target_arch = "x86_64")))]
fn specials16_words(chunk: &[u8; 16]) -> u32 {
    let (lo, hi) = chunk.split_at(8);
    let word = |half: &[u8]| u64::from_le_bytes(half.try_into().unwrap_or_default());
    bits_of(byte_hits(word(lo), SPECIAL)) | bits_of(byte_hits(word(hi), SPECIAL)) << 8
}

/// The top bits of the eight bytes of `hits` as eight bits, byte `k`'s as bit `k`: the
/// multiplication moves each to its place in the top byte, and no two products overlap.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn bits_of(hits: u64) -> u32 {
    ((hits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// RFC 3986 unreserved characters: the ones [`encode_into`](crate::form::encode_into) passes
/// through.
#[cfg(any(test, not(target_arch = "x86_64")))]
pub(crate) const UNRESERVED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    t
};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Random strings over an alphabet dense in encodings, separators and multi-byte text.
    pub(crate) fn random_texts(mut each: impl FnMut(&str)) {
        let alphabet = [
            "a",
            "Z",
            "=",
            "&",
            "+",
            "%",
            "%41",
            "%4",
            "%e9",
            "%C3%A9",
            "%C3",
            "%7e",
            "%2B",
            "é",
            "😀",
            "-",
            "~",
            "0123456789",
            "'",
            "$",
            "\u{7f}",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..40 {
            for _ in 0..60 {
                let mut text = String::new();
                for _ in 0..len {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    text.push_str(alphabet[(seed % alphabet.len() as u64) as usize]);
                }
                each(&text);
            }
        }
    }

    #[test]
    fn the_word_scan_finds_what_a_byte_scan_finds() {
        random_texts(|text| {
            let bytes = text.as_bytes();
            for from in 0..=bytes.len() {
                let slow = |set: &[u8]| {
                    from + bytes[from..]
                        .iter()
                        .take_while(|b| !set.contains(b))
                        .count()
                };
                assert_eq!(find_any(bytes, from, [b'&']), slow(b"&"));
                assert_eq!(find_any(bytes, from, [b'+', b'%']), slow(b"+%"));
                assert_eq!(
                    find_any(bytes, from, [b'=', b'&', b'+', b'%']),
                    slow(b"=&+%")
                );
            }
        });
        // Bytes one above a searched byte next to a match (where a borrowing test goes wrong).
        let bytes = b"&'&'&'&'&'&'&'&'x";
        for from in 0..bytes.len() {
            let want = (from..bytes.len()).find(|i| bytes[*i] == b'&');
            assert_eq!(find_any(bytes, from, [b'&']), want.unwrap_or(bytes.len()));
        }
    }

    #[test]
    fn the_block_masks_mark_exactly_the_special_bytes() {
        random_texts(|text| {
            let bytes = text.as_bytes();
            for base in (0..bytes.len()).step_by(16).chain(0..bytes.len().min(20)) {
                let want = bytes[base..]
                    .iter()
                    .take(16)
                    .enumerate()
                    .filter(|(_, b)| SPECIAL.contains(b))
                    .fold(0u32, |m, (k, _)| m | 1 << k);
                assert_eq!(specials_at(bytes, base), want, "{text:?} at {base}");
            }
            let mut chunk = [0u8; 16];
            for (c, b) in chunk.iter_mut().zip(bytes.iter().rev()) {
                *c = *b;
            }
            assert_eq!(specials16(&chunk), specials16_words(&chunk), "{chunk:?}");
        });
        for k in 0..8 {
            assert_eq!(bits_of(0x80 << (8 * k)), 1 << k);
        }
        assert_eq!(bits_of(HIGH), 0xff);
    }

    #[test]
    fn the_encoding_mask_marks_exactly_the_reserved_bytes() {
        for b in 0..=255u8 {
            let chunk = [b; 16];
            let want = if UNRESERVED[usize::from(b)] {
                0
            } else {
                0xffff
            };
            assert_eq!(reserved16(&chunk), want, "{b:#x}");
            assert_eq!(reserved16_bytes(&chunk), want, "{b:#x}");
        }
    }
}
