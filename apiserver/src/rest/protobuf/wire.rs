//! The protobuf wire format, read from a byte slice: tags, varints,
//! fixed 32- and 64-bit words and length-delimited runs. Every read is
//! bounds-checked and says what it was reading when the input ran out;
//! nothing here knows a schema.

/// What went wrong reading the wire; the decoder adds where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireError {
    /// The input ended inside a tag, a value or a length-delimited run.
    Truncated,
    /// A varint ran past ten bytes.
    VarintTooLong,
    /// A field number of 0 or past 2^29 - 1.
    BadFieldNumber(u64),
    /// A wire type other than 0, 1, 2 and 5 (3 and 4 are the groups of
    /// proto2, which go-to-protobuf never writes).
    UnsupportedWireType(u8),
}

/// How a field's value is laid out on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint,
    Fixed64,
    LengthDelimited,
    Fixed32,
}

impl WireType {
    /// The number the wire format gives this type.
    pub(crate) fn number(self) -> u8 {
        match self {
            WireType::Varint => 0,
            WireType::Fixed64 => 1,
            WireType::LengthDelimited => 2,
            WireType::Fixed32 => 5,
        }
    }
}

/// One field's value as it lies on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    LengthDelimited(&'a [u8]),
    Fixed32(u32),
}

impl WireValue<'_> {
    pub(crate) fn wire_type(&self) -> WireType {
        match self {
            WireValue::Varint(_) => WireType::Varint,
            WireValue::Fixed64(_) => WireType::Fixed64,
            WireValue::LengthDelimited(_) => WireType::LengthDelimited,
            WireValue::Fixed32(_) => WireType::Fixed32,
        }
    }
}

/// Reads the fields of one message in order.
pub(crate) struct WireReader<'a> {
    remaining: &'a [u8],
}

impl<'a> WireReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        WireReader { remaining: bytes }
    }

    /// The next field's number and value, or `None` at the end.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, WireValue<'a>)>, WireError> {
        if self.remaining.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let wire_type_number = key & 0x7;
        let field_number = u32::try_from(key >> 3)
            .ok()
            .filter(|number| (1..=MAX_FIELD_NUMBER).contains(number))
            .ok_or(WireError::BadFieldNumber(key >> 3))?;
        let value = match wire_type_number {
            0 => WireValue::Varint(self.varint()?),
            1 => WireValue::Fixed64(u64::from_le_bytes(self.array()?)),
            2 => {
                let length = self.varint()?;
                let length = usize::try_from(length)
                    .ok()
                    .filter(|length| *length <= self.remaining.len())
                    .ok_or(WireError::Truncated)?;
                let (run, rest) = self.remaining.split_at(length);
                self.remaining = rest;
                WireValue::LengthDelimited(run)
            }
            5 => WireValue::Fixed32(u32::from_le_bytes(self.array()?)),
            other => {
                // The low three bits of a u64 fit a u8.
                return Err(WireError::UnsupportedWireType(other as u8));
            }
        };
        Ok(Some((field_number, value)))
    }

    /// A base-128 varint of at most ten bytes.
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let mut value: u64 = 0;
        for (index, byte) in self.remaining.iter().enumerate() {
            if index == MAX_VARINT_BYTES {
                break;
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                self.remaining = &self.remaining[index + 1..];
                return Ok(value);
            }
        }
        if self.remaining.len() >= MAX_VARINT_BYTES {
            Err(WireError::VarintTooLong)
        } else {
            Err(WireError::Truncated)
        }
    }

    /// Whether every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining.is_empty()
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let Some((head, rest)) = self.remaining.split_first_chunk::<N>() else {
            return Err(WireError::Truncated);
        };
        self.remaining = rest;
        Ok(*head)
    }
}

/// The largest field number protobuf allows.
const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

/// A u64 takes at most ten 7-bit groups.
const MAX_VARINT_BYTES: usize = 10;
