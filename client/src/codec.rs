//! The gRPC codec of Skiff's API (`codec_path` in `build.rs`): prost's
//! encoding, except that a message that does not decode fails with
//! `InvalidArgument` naming the field and the problem (invalid UTF-8 in a
//! string, a truncated varint, a wrong wire type), where tonic-prost's
//! codec answers `Internal`.
//!
//! Why a codec: the decode error happens in tonic's generated server code
//! before any handler runs, so neither the handlers nor `grpc/status.rs`
//! see it, and a layer rewriting statuses afterwards would have to guess
//! from message text. Declaring string fields `bytes` would push UTF-8
//! checks into every handler. The codec is shared by the generated client,
//! so a client that receives an undecodable response sees
//! `InvalidArgument` too (gRPC's own table says `Internal` there); both
//! sides still name the field.

use std::marker::PhantomData;

use prost::Message;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic_prost::ProstEncoder;

/// Prost encoding with `InvalidArgument` for messages that do not decode.
#[derive(Debug, Clone)]
pub struct ApiCodec<T, U> {
    _messages: PhantomData<(T, U)>,
}

impl<T, U> Default for ApiCodec<T, U> {
    fn default() -> Self {
        ApiCodec {
            _messages: PhantomData,
        }
    }
}

impl<T, U> Codec for ApiCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ApiDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ApiDecoder {
            _message: PhantomData,
        }
    }
}

/// Decodes `U`; see [`ApiCodec`].
#[derive(Debug, Clone)]
pub struct ApiDecoder<U> {
    _message: PhantomData<U>,
}

impl<U: Message + Default> Decoder for ApiDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf)
            .map(Some)
            .map_err(|error| invalid_message(&error))
    }
}

fn invalid_message(error: &prost::DecodeError) -> Status {
    Status::invalid_argument(format!("invalid protobuf message: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_in_a_string_field_names_the_field() {
        // Field 1 (`resource`), wire type 2 (length-delimited), 2 bytes that
        // are not UTF-8.
        let bytes: &[u8] = &[0x0a, 0x02, 0xff, 0xfe];
        let error = crate::proto::CreateRequest::decode(bytes).unwrap_err();
        let status = invalid_message(&error);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().contains("CreateRequest.resource"),
            "{}",
            status.message()
        );
        assert!(status.message().contains("UTF-8"), "{}", status.message());
    }
}
