//! The one canonical binary encoding of every consensus type, used for hashing, the wire and storage.
//!
//! Integers are little-endian; lengths are Bitcoin's CompactSize and must be minimal. Decoding
//! checks every length against a named limit (and against the bytes actually left) before it
//! allocates, and [`decode`] rejects trailing bytes, so each value has exactly one encoding and
//! `encode(decode(bytes)) == bytes` whenever decoding succeeds.

use alloc::vec::Vec;
use core::fmt;

/// A type with a canonical byte encoding.
pub trait Encode {
    /// Appends the canonical encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);
}

/// A type that can be read back from its canonical encoding.
pub trait Decode: Sized {
    /// Reads one value from the front of `r`, leaving the rest.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Returns the canonical encoding of `value`.
pub fn encode<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode_to(&mut out);
    out
}

/// Decodes exactly one value from `bytes`; bytes left over are an error.
pub fn decode<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode_from(&mut r)?;
    match r.remaining() {
        0 => Ok(value),
        count => Err(DecodeError::TrailingBytes { count }),
    }
}

/// Like [`decode`], but refuses more than `max` bytes (`what` names them) before reading any.
pub fn decode_bounded<T: Decode>(bytes: &[u8], max: usize, what: &'static str) -> Result<T, DecodeError> {
    if bytes.len() > max {
        return Err(DecodeError::TooMany { what, count: bytes.len() as u64, max: max as u64 });
    }
    decode(bytes)
}

/// Why bytes are not the canonical encoding of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended inside a value.
    UnexpectedEnd { needed: usize, remaining: usize },
    /// A whole value was read but bytes were left after it.
    TrailingBytes { count: usize },
    /// A CompactSize that used more bytes than its value needs.
    NonCanonicalCompactSize,
    /// A list longer than its limit.
    TooMany { what: &'static str, count: u64, max: u64 },
    /// A field whose value the type does not allow.
    Invalid { what: &'static str },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd { needed, remaining } => {
                write!(f, "input ended early: needed {needed} bytes, {remaining} left")
            }
            Self::TrailingBytes { count } => write!(f, "{count} trailing bytes after the value"),
            Self::NonCanonicalCompactSize => f.write_str("non-minimal compact size"),
            Self::TooMany { what, count, max } => write!(f, "{count} {what}, at most {max} allowed"),
            Self::Invalid { what } => write!(f, "invalid {what}"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// A cursor over bytes being decoded.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// How many bytes have not been read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err(DecodeError::UnexpectedEnd { needed: n, remaining: self.bytes.len() });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads a Bitcoin CompactSize, rejecting non-minimal forms.
    pub fn compact_size(&mut self) -> Result<u64, DecodeError> {
        let (value, min) = match self.u8()? {
            0xfd => (u64::from(self.u16()?), 0xfd),
            0xfe => (u64::from(self.u32()?), 0x1_0000),
            0xff => (self.u64()?, 0x1_0000_0000),
            small => return Ok(u64::from(small)),
        };
        if value < min {
            return Err(DecodeError::NonCanonicalCompactSize);
        }
        Ok(value)
    }

    /// Reads a length prefix and checks it against `max` and against the bytes left, assuming
    /// each item takes at least `item_bytes_min` bytes, before anything is allocated.
    pub fn length(&mut self, what: &'static str, max: usize, item_bytes_min: usize) -> Result<usize, DecodeError> {
        let count = self.compact_size()?;
        if count > max as u64 {
            return Err(DecodeError::TooMany { what, count, max: max as u64 });
        }
        let count = count as usize; // count <= max, which is a usize.
        let needed = count.saturating_mul(item_bytes_min);
        if needed > self.remaining() {
            return Err(DecodeError::UnexpectedEnd { needed, remaining: self.remaining() });
        }
        Ok(count)
    }

    /// Reads a length-prefixed list of at most `max` items.
    pub fn list<T: Decode>(
        &mut self,
        what: &'static str,
        max: usize,
        item_bytes_min: usize,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.length(what, max, item_bytes_min)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(T::decode_from(self)?);
        }
        Ok(items)
    }

    /// Reads length-prefixed bytes of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<Vec<u8>, DecodeError> {
        let count = self.length(what, max, 1)?;
        Ok(self.take(count)?.to_vec())
    }
}

/// Appends a Bitcoin CompactSize in its minimal form.
pub fn write_compact_size(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=0xfc => out.push(value as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(value as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(value as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// Appends a length prefix followed by each item's encoding.
pub fn write_list<T: Encode>(out: &mut Vec<u8>, items: &[T]) {
    write_compact_size(out, items.len() as u64);
    for item in items {
        item.encode_to(out);
    }
}

/// Appends length-prefixed bytes.
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_compact_size(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// How many bytes the CompactSize of `value` takes.
pub const fn compact_size_len(value: u64) -> usize {
    match value {
        0..=0xfc => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

macro_rules! int_codec {
    ($($ty:ty => $read:ident),*) => {$(
        impl Encode for $ty {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Decode for $ty {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$read()
            }
        }
    )*};
}
int_codec!(u8 => u8, u16 => u16, u32 => u32, i32 => i32, u64 => u64);

impl<const N: usize> Encode for [u8; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn check_compact_size(bytes: &[u8], expected: Result<u64, DecodeError>) {
        let mut r = Reader::new(bytes);
        assert_eq!(r.compact_size(), expected, "{bytes:02x?}");
        if let Ok(value) = expected {
            let mut out = Vec::new();
            write_compact_size(&mut out, value);
            assert_eq!(out, bytes);
            assert_eq!(compact_size_len(value), bytes.len());
        }
    }

    #[test]
    fn compact_size_is_minimal() {
        check_compact_size(&[0x00], Ok(0));
        check_compact_size(&[0xfc], Ok(0xfc));
        check_compact_size(&[0xfd, 0xfd, 0x00], Ok(0xfd));
        check_compact_size(&[0xfd, 0xfc, 0x00], Err(DecodeError::NonCanonicalCompactSize));
        check_compact_size(&[0xfe, 0x00, 0x00, 0x01, 0x00], Ok(0x1_0000));
        check_compact_size(&[0xfe, 0xff, 0xff, 0x00, 0x00], Err(DecodeError::NonCanonicalCompactSize));
        check_compact_size(&[0xff, 0, 0, 0, 0, 1, 0, 0, 0], Ok(0x1_0000_0000));
        check_compact_size(&[0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], Err(DecodeError::NonCanonicalCompactSize));
        check_compact_size(&[0xfd, 0x00], Err(DecodeError::UnexpectedEnd { needed: 2, remaining: 1 }));
    }

    #[test]
    fn lists_are_checked_before_allocating() {
        // A huge count with no bytes behind it is refused without reserving memory.
        let mut r = Reader::new(&[0xfe, 0xff, 0xff, 0xff, 0x00]);
        assert_eq!(
            r.list::<u64>("items", usize::MAX, 8),
            Err(DecodeError::UnexpectedEnd { needed: 0xff_ffff * 8, remaining: 0 })
        );
        let mut r = Reader::new(&[3, 1, 2, 3]);
        assert_eq!(r.list::<u8>("items", 2, 1), Err(DecodeError::TooMany { what: "items", count: 3, max: 2 }));
        let mut r = Reader::new(&[2, 1, 2]);
        assert_eq!(r.list::<u8>("items", 2, 1), Ok(vec![1, 2]));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        assert_eq!(decode::<u32>(&[1, 0, 0, 0]), Ok(1));
        assert_eq!(decode::<u32>(&[1, 0, 0, 0, 0]), Err(DecodeError::TrailingBytes { count: 1 }));
        assert_eq!(decode::<u32>(&[1, 0]), Err(DecodeError::UnexpectedEnd { needed: 4, remaining: 2 }));
    }
}
