//! A browser page calls medpay with gRPC-Web: headless Chromium loads a page from an allowed
//! origin (a small HTTP server of the test on loopback), whose script encodes a ListSchemes
//! request and its gRPC-Web frame by hand, calls the public listener across origins with an API
//! key, decodes the answer and writes it into the page. The same page from an origin that is not
//! allowed cannot read an answer, and a wrong key is refused as over gRPC.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use integration_tests::browser::{chromium_for_test, rendered_dom};
use integration_tests::{COUNTY_KEY, Medpay, config_with_county_key};
use medpay_proto::grouping::v1 as grouping;

/// The page's script: protobuf and gRPC-Web framing by hand, no library. It writes one line per
/// call into `#result`: the grpc-status and the schemes as `id/version/drg_count/source`.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>medpay gRPC-Web</title></head>
<body><pre id="result">pending</pre>
<script>
const GATEWAY = "__GATEWAY__";
const KEY = "__KEY__";

function varint(n) {
  const out = [];
  while (n > 127) { out.push((n & 127) | 128); n >>>= 7; }
  out.push(n);
  return out;
}
function stringField(field, text) {
  const bytes = Array.from(new TextEncoder().encode(text));
  return [(field << 3) | 2, ...varint(bytes.length), ...bytes];
}
// Reads a message into {field: [values]}: varints as numbers, length-delimited as byte arrays.
function fields(bytes) {
  const out = {};
  let at = 0;
  const readVarint = () => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value += (byte & 127) * Math.pow(2, shift); shift += 7; } while (byte & 128);
    return value;
  };
  while (at < bytes.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8), wire = tag & 7;
    let value;
    if (wire === 0) { value = readVarint(); }
    else if (wire === 2) { const length = readVarint(); value = bytes.subarray(at, at + length); at += length; }
    else if (wire === 1) { at += 8; continue; }
    else if (wire === 5) { at += 4; continue; }
    else { throw new Error("wire type " + wire); }
    (out[field] = out[field] || []).push(value);
  }
  return out;
}
const text = (bytes) => bytes ? new TextDecoder().decode(bytes) : "";

async function listSchemes(key) {
  const message = Uint8Array.from(stringField(1, "460108"));
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  const response = await fetch(GATEWAY + "/medpay.grouping.v1.GroupingService/ListSchemes", {
    method: "POST",
    headers: {
      "content-type": "application/grpc-web+proto",
      "x-grpc-web": "1",
      "authorization": "Bearer " + key,
    },
    body: frame,
  });
  const body = new Uint8Array(await response.arrayBuffer());
  // A trailers-only answer carries the status in headers; otherwise it is the trailer frame.
  let status = response.headers.get("grpc-status");
  const schemes = [];
  let at = 0;
  while (at + 5 <= body.length) {
    const flag = body[at];
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    const payload = body.subarray(at + 5, at + 5 + length);
    at += 5 + length;
    if (flag & 0x80) {
      const trailer = text(payload).split("\r\n").find((line) => line.startsWith("grpc-status:"));
      if (trailer) status = trailer.slice("grpc-status:".length).trim();
    } else {
      for (const info of fields(payload)[1] || []) {
        const scheme = fields(info);
        schemes.push([text((scheme[1] || [])[0]), text((scheme[2] || [])[0]),
                      (scheme[7] || [0])[0], text((scheme[8] || [])[0])].join("/"));
      }
    }
  }
  return "status=" + status + " schemes=" + schemes.join(",");
}

(async () => {
  const lines = [];
  for (const key of [KEY, "not-a-known-key-0000"]) {
    try { lines.push(await listSchemes(key)); }
    catch (error) { lines.push("failed: " + error.name); }
  }
  document.getElementById("result").textContent = lines.join("\n");
})();
</script></body></html>
"#;

/// Serves `page` on `listener` to every `GET /` until the test ends; returns the origin.
fn serve_page(listener: TcpListener, page: &str) -> anyhow::Result<String> {
    let page = page.to_owned();
    let origin = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => request.extend_from_slice(&buffer[..read]),
                }
            }
            let (status, body) = if request.starts_with(b"GET / ") {
                ("200 OK", page.as_str())
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(origin)
}

/// The text of `#result` once Chromium has run the page's script (headless, a fresh profile,
/// at most two minutes).
fn result_of(chromium: &Path, url: &str, profile: &Path) -> anyhow::Result<String> {
    let dom = rendered_dom(chromium, url, profile, Duration::from_secs(20))?;
    let start = dom
        .find("<pre id=\"result\">")
        .ok_or_else(|| anyhow::anyhow!("no #result in the page:\n{dom}"))?
        + "<pre id=\"result\">".len();
    let end = start
        + dom[start..]
            .find("</pre>")
            .ok_or_else(|| anyhow::anyhow!("#result is not closed"))?;
    Ok(dom[start..end].to_owned())
}

#[tokio::test]
async fn a_page_of_an_allowed_origin_reads_schemes_with_grpc_web_and_another_origin_cannot()
-> anyhow::Result<()> {
    let Some(chromium) = chromium_for_test("gRPC-Web was not called from a browser") else {
        return Ok(());
    };
    // The page needs the gateway's address and the gateway its origin: bind the page's port
    // first, serve the page once the gateway is up.
    let allowed = TcpListener::bind("127.0.0.1:0")?;
    let allowed_origin = format!("http://{}", allowed.local_addr()?);
    let medpay = Medpay::up(&format!(
        "{}\n[server.grpc_web]\nallowed_origins = [\"{allowed_origin}\"]\n",
        config_with_county_key()
    ))?;
    let page = PAGE
        .replace("__GATEWAY__", &format!("http://{}", medpay.address))
        .replace("__KEY__", COUNTY_KEY);
    assert_eq!(serve_page(allowed, &page)?, allowed_origin);
    let other_origin = serve_page(TcpListener::bind("127.0.0.1:0")?, &page)?;

    // What the same call answers over gRPC.
    let expected =
        grouping::grouping_service_client::GroupingServiceClient::new(medpay.channel().await?)
            .list_schemes({
                let mut request = tonic::Request::new(grouping::ListSchemesRequest {
                    region_code: "460108".into(),
                    ..Default::default()
                });
                request
                    .metadata_mut()
                    .insert("authorization", format!("Bearer {COUNTY_KEY}").parse()?);
                request
            })
            .await?
            .into_inner()
            .schemes
            .iter()
            .map(|s| format!("{}/{}/{}/{}", s.scheme_id, s.version, s.drg_count, s.source))
            .collect::<Vec<_>>()
            .join(",");
    assert!(
        expected.contains("demo/1/48/builtin:demo"),
        "the demo scheme (48 DRGs) is listed over gRPC: {expected}"
    );

    let profiles = tempfile::tempdir()?;
    let from_allowed = result_of(
        &chromium,
        &format!("{allowed_origin}/"),
        &profiles.path().join("allowed"),
    )?;
    assert_eq!(
        from_allowed,
        format!("status=0 schemes={expected}\nstatus=16 schemes="),
        "the allowed origin reads the answer; a wrong key is UNAUTHENTICATED (16) as over gRPC"
    );

    let from_other = result_of(
        &chromium,
        &format!("{other_origin}/"),
        &profiles.path().join("other"),
    )?;
    assert_eq!(
        from_other, "failed: TypeError\nfailed: TypeError",
        "a page of another origin gets no CORS headers, so its browser withholds every answer"
    );
    Ok(())
}
