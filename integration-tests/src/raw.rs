//! Calling any method of the contracts by its path with hand-encoded bytes, the way a fuzzer or
//! an attacker does: no generated client, so a test can walk every method in the descriptor set.

use std::str::FromStr;

use bytes::{Buf, BufMut};
use http::uri::PathAndQuery;
use prost::Message;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// Passes message bytes through unchanged.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

pub struct RawEncoder;
pub struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut bytes = vec![0; src.remaining()];
        src.copy_to_slice(&mut bytes);
        Ok(Some(bytes))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// A method of the contracts, with what a test needs to build a request for it.
#[derive(Clone, Debug)]
pub struct Method {
    /// `/package.Service/Method`.
    pub path: String,
    pub service: String,
    /// Field number of a top-level `region_code` string of the request, if it has one.
    pub region_field: Option<i32>,
    /// Field number of a top-level `request_id` string of the request, if it has one.
    pub request_id_field: Option<i32>,
}

impl Method {
    pub fn is_internal(&self) -> bool {
        self.service.contains(".internal.")
    }

    /// A request carrying only `region_code` and `request_id`, where the message has them.
    pub fn request(&self, region: &str, request_id: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (field, value) in [
            (self.region_field, region),
            (self.request_id_field, request_id),
        ] {
            if let Some(number) = field {
                prost::encoding::string::encode(number as u32, &value.to_owned(), &mut bytes);
            }
        }
        bytes
    }
}

/// Every method of every medpay contract, from the compiled descriptor set.
pub fn methods() -> anyhow::Result<Vec<Method>> {
    let set = prost_types::FileDescriptorSet::decode(medpay_proto::FILE_DESCRIPTOR_SET)?;
    let mut messages = std::collections::HashMap::new();
    for file in &set.file {
        let package = file.package();
        for message in &file.message_type {
            messages.insert(format!(".{package}.{}", message.name()), message.clone());
        }
    }
    let mut found = Vec::new();
    for file in &set.file {
        for service in &file.service {
            let service_name = format!("{}.{}", file.package(), service.name());
            for method in &service.method {
                let input = messages.get(method.input_type());
                let field = |name: &str| {
                    input.and_then(|m| {
                        m.field
                            .iter()
                            .find(|f| {
                                f.name() == name
                                    && f.r#type()
                                        == prost_types::field_descriptor_proto::Type::String
                            })
                            .map(|f| f.number())
                    })
                };
                found.push(Method {
                    path: format!("/{service_name}/{}", method.name()),
                    service: service_name.clone(),
                    region_field: field("region_code"),
                    request_id_field: field("request_id"),
                });
            }
        }
    }
    Ok(found)
}

/// Calls `path` with one message of `body` (any method: unary or streaming, the wire is the same
/// for one message) and returns the code the call ended with.
pub async fn call(
    channel: &Channel,
    path: &str,
    body: Vec<u8>,
    authorization: Option<&str>,
) -> Status {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    if let Err(error) = grpc.ready().await {
        return Status::unavailable(error.to_string());
    }
    let Ok(path) = PathAndQuery::from_str(path) else {
        return Status::invalid_argument("bad path");
    };
    let mut request = Request::new(tokio_stream::iter([body]));
    if let Some(key) = authorization {
        match MetadataValue::try_from(format!("Bearer {key}")) {
            Ok(value) => {
                request.metadata_mut().insert("authorization", value);
            }
            Err(_) => return Status::invalid_argument("bad key"),
        }
    }
    match grpc.streaming(request, path, RawCodec).await {
        Err(status) => status,
        Ok(response) => {
            let mut stream = response.into_inner();
            loop {
                match stream.message().await {
                    Ok(Some(_)) => {}
                    Ok(None) => return Status::new(Code::Ok, ""),
                    Err(status) => return status,
                }
            }
        }
    }
}
