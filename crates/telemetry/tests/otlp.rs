//! Trace export over OTLP/HTTP to a real HTTP endpoint: the test is its own collector. The
//! program under test is this very test binary run again as a child (so that its environment
//! carries the `OTEL_*` variables and its global subscriber is its own).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

const CHILD: &str = "FERROBOT_OTLP_TEST_CHILD";

/// Accepts OTLP/HTTP posts, answering each with an empty success, and hands over their path and
/// body.
fn collector() -> (String, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("request line");
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).expect("header");
                if header.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().expect("content-length");
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
            );
            if sender.send((path, body)).is_err() {
                return;
            }
        }
    });
    (url, receiver)
}

#[test]
fn spans_are_exported_over_otlp_http_with_their_fields_and_service_name() {
    if std::env::var_os(CHILD).is_some() {
        let guard = ferrobot_telemetry::init(&ferrobot_telemetry::Options::default())
            .expect("init with OTLP export");
        let span = tracing::info_span!("build", builder = "runtests", number = 7);
        span.in_scope(|| tracing::info!("inside the build"));
        drop(span);
        // Dropping the guard sends what is still batched.
        drop(guard);
        return;
    }
    let (url, posts) = collector();
    let child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "spans_are_exported_over_otlp_http_with_their_fields_and_service_name",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &url)
        .env("OTEL_SERVICE_NAME", "ferrobot-test")
        .env_remove("RUST_LOG")
        .output()
        .expect("run the child");
    assert!(child.status.success(), "child: {child:?}");

    let (path, body) = posts
        .recv_timeout(Duration::from_secs(30))
        .expect("the child posted its spans");
    assert_eq!(path, "/v1/traces");
    let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
    let resource = request.resource_spans[0]
        .resource
        .as_ref()
        .expect("a resource");
    let service = resource
        .attributes
        .iter()
        .find(|a| a.key == "service.name")
        .and_then(|a| a.value.as_ref()?.value.clone());
    assert_eq!(service, Some(Value::StringValue("ferrobot-test".into())));
    let spans: Vec<_> = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    let build = spans
        .iter()
        .find(|s| s.name == "build")
        .unwrap_or_else(|| panic!("a build span in {spans:?}"));
    let attribute = |key: &str| {
        build
            .attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_ref()?.value.clone())
    };
    assert_eq!(
        attribute("builder"),
        Some(Value::StringValue("runtests".into()))
    );
    assert_eq!(attribute("number"), Some(Value::IntValue(7)));
    assert!(
        build.events.iter().any(|e| e.name == "inside the build"),
        "the event is on the span: {build:?}"
    );
}
