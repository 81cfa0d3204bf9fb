//! OpenTelemetry traces of edit runs: OTLP/JSON files and live OTLP/HTTP protobuf.
//!
//! One trace per run: a root span `edit` (kind INTERNAL) for the run, a child span per stage,
//! the context build's sub-steps as children of the context stage, and a span per model call
//! (kind CLIENT) under its stage, named `"{gen_ai.operation.name} {gen_ai.request.model}"` with
//! the GenAI attributes of PROVIDERS.md (names in [`crate::llm::semconv`]).
//!
//! Spans are the SDK's own [`SpanData`], built with the run's recorded times, so both encodings
//! come from one model: the file through opentelemetry-proto's conversion and its serde mapping
//! (the OTLP JSON encoding: hex ids, `*UnixNano` as strings, `{key, value: {stringValue|...}}`),
//! the live export through opentelemetry-otlp's HTTP exporter. That exporter posts with our own
//! reqwest (its `reqwest-client` feature shares our reqwest 0.13 and its ring-based rustls), so
//! no second HTTP or TLS stack is linked.
//!
//! Ids are derived from the run (project, row id, created_at) rather than random: the same run
//! exported live and later from the database is the same trace.
//!
//! Time: span times are wall-clock. The offline backend's model stages take real milliseconds
//! but model seconds: their modeled figures are attributes (`editscope.simulated_ms`, and on a
//! call `gen_ai.response.time_to_first_chunk` with `editscope.simulated = true`), never span
//! lengths, so a child span never outlasts its parent.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use sha2::{Digest, Sha256};

use super::{RunTrace, TracedCall, finite_ms};
use crate::llm::semconv::*;

/// Name of the root span of a run.
pub const RUN_SPAN_NAME: &str = "edit";
/// Instrumentation scope of the spans.
pub const SCOPE_NAME: &str = "editscope";
/// Path of the traces endpoint under a collector's OTLP/HTTP base URL.
pub const TRACES_PATH: &str = "v1/traces";
/// How long one live export may take in all (attempts and the exporter's retries included).
pub const LIVE_EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a trace could not be written or sent.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("invalid OTLP endpoint '{url}': {detail}")]
    Endpoint { url: String, detail: String },
    #[error("sending spans to {url} failed: {detail}")]
    Send { url: String, detail: String },
    #[error("encoding the trace as JSON failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// The resource every exported span belongs to.
pub fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new(SERVICE_NAME, SERVICE_NAME_EDITSCOPE),
            KeyValue::new(SERVICE_VERSION, env!("CARGO_PKG_VERSION")),
        ])
        .build()
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The trace id of a run: the first 16 bytes of SHA-256 of its identity.
pub fn trace_id(run: &RunTrace) -> TraceId {
    let d = digest(&run.identity());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&d[..16]);
    // All zeroes is the invalid id; one in 2^128, but then a collector would drop the trace.
    bytes[15] |= u8::from(bytes == [0; 16]);
    TraceId::from_bytes(bytes)
}

fn span_id(run: &RunTrace, index: usize) -> SpanId {
    let d = digest(&format!("{}/span/{index}", run.identity()));
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&d[..8]);
    bytes[7] |= u8::from(bytes == [0; 8]);
    SpanId::from_bytes(bytes)
}

fn at(us: i64) -> SystemTime {
    if us <= 0 {
        return UNIX_EPOCH;
    }
    UNIX_EPOCH + Duration::from_micros(us as u64)
}

fn us(ms: f64) -> i64 {
    (finite_ms(ms) * 1000.0).round() as i64
}

/// Builds the spans of one run, numbering span ids as it goes.
struct RunSpans<'a> {
    run: &'a RunTrace,
    trace_id: TraceId,
    next: usize,
    spans: Vec<SpanData>,
}

impl RunSpans<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        parent: SpanId,
        kind: SpanKind,
        name: String,
        start_us: i64,
        end_us: i64,
        attributes: Vec<KeyValue>,
        status: Status,
    ) -> SpanId {
        let id = span_id(self.run, self.next);
        self.next += 1;
        self.spans.push(SpanData {
            span_context: SpanContext::new(
                self.trace_id,
                id,
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: parent,
            parent_span_is_remote: false,
            span_kind: kind,
            name: Cow::Owned(name),
            start_time: at(start_us),
            end_time: at(end_us.max(start_us)),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status,
            instrumentation_scope: scope(),
        });
        id
    }

    fn model_call(&mut self, parent: SpanId, call: &TracedCall, start: i64, end: i64) -> i64 {
        let request_model = request_model(self.run.backend.as_deref(), call);
        let provider = provider_name(self.run.backend.as_deref(), &call.model, call.simulated);
        let mut attributes = vec![
            KeyValue::new(GEN_AI_OPERATION_NAME, OPERATION_CHAT),
            KeyValue::new(GEN_AI_PROVIDER_NAME, provider),
            KeyValue::new(GEN_AI_REQUEST_MODEL, request_model.clone()),
            KeyValue::new(GEN_AI_RESPONSE_MODEL, call.model.clone()),
            KeyValue::new(GEN_AI_USAGE_INPUT_TOKENS, call.input_tokens as i64),
            KeyValue::new(GEN_AI_USAGE_OUTPUT_TOKENS, call.output_tokens as i64),
            KeyValue::new(
                GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                call.cached_tokens as i64,
            ),
            KeyValue::new(
                GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
                finite_ms(call.ttft_ms) / 1000.0,
            ),
            KeyValue::new(EDITSCOPE_STAGE, call.stage.clone()),
            KeyValue::new(EDITSCOPE_SIMULATED, call.simulated),
            KeyValue::new(EDITSCOPE_USAGE_ESTIMATED, call.usage_estimated),
        ];
        if let Some(rate) = call.output_tokens_per_s.filter(|r| r.is_finite()) {
            attributes.push(KeyValue::new(EDITSCOPE_OUTPUT_TOKENS_PER_S, rate));
        }
        // A modeled call lasted, in wall-clock time, what its stage did: its modeled length is
        // in the attributes. A real call lasts what it measured, within its stage.
        let call_end = if call.simulated {
            end
        } else {
            (start + us(call.duration_ms())).min(end)
        };
        self.push(
            parent,
            SpanKind::Client,
            format!("{OPERATION_CHAT} {request_model}"),
            start,
            call_end,
            attributes,
            Status::Unset,
        );
        call_end
    }

    fn build(mut self) -> Vec<SpanData> {
        let run = self.run;
        let start = run.started_at_us;
        let end = start + run.total_real_us();
        let mut attributes = vec![
            KeyValue::new(EDITSCOPE_PROJECT_ID, run.project_id.clone()),
            KeyValue::new(EDITSCOPE_PROMPT, run.prompt.clone()),
            KeyValue::new(EDITSCOPE_FLAGS, run.flags.clone()),
            KeyValue::new(EDITSCOPE_OUTCOME, run.outcome.clone()),
            KeyValue::new(EDITSCOPE_COMPARISON, run.comparison),
        ];
        if let Some(id) = run.run_id {
            attributes.push(KeyValue::new(EDITSCOPE_RUN_ID, id));
        }
        if let Some(tool) = &run.tool {
            attributes.push(KeyValue::new(EDITSCOPE_TOOL, tool.clone()));
        }
        if let Some(target) = &run.target_scene_id {
            attributes.push(KeyValue::new(EDITSCOPE_TARGET_SCENE_ID, target.clone()));
        }
        if let Some(path) = &run.context_path {
            attributes.push(KeyValue::new(EDITSCOPE_CONTEXT_PATH, path.clone()));
        }
        if let Some(build_us) = run.build_us {
            attributes.push(KeyValue::new(EDITSCOPE_CONTEXT_BUILD_US, build_us as i64));
        }
        let status = if run.outcome == "failed" {
            attributes.push(KeyValue::new(ERROR_TYPE, "edit_failed"));
            Status::error(
                run.error
                    .clone()
                    .unwrap_or_else(|| "the edit failed".into()),
            )
        } else {
            Status::Unset
        };
        let root = self.push(
            SpanId::INVALID,
            SpanKind::Internal,
            RUN_SPAN_NAME.to_string(),
            start,
            end,
            attributes,
            status,
        );

        let mut t = start;
        for stage in &run.stages {
            let stage_end = t + us(stage.real_ms);
            let mut attributes = vec![
                KeyValue::new(EDITSCOPE_STAGE, stage.name.clone()),
                KeyValue::new(EDITSCOPE_REAL_MS, stage.real_ms),
            ];
            if let Some(simulated) = stage.simulated_ms {
                attributes.push(KeyValue::new(EDITSCOPE_SIMULATED_MS, simulated));
            }
            let stage_span = self.push(
                root,
                SpanKind::Internal,
                stage.name.clone(),
                t,
                stage_end,
                attributes,
                Status::Unset,
            );
            if stage.name == "context" {
                let mut cursor = t;
                for step in &run.steps {
                    let step_end = (cursor + step.us as i64).min(stage_end);
                    self.push(
                        stage_span,
                        SpanKind::Internal,
                        format!("context.{}", step.name),
                        cursor,
                        step_end,
                        vec![
                            KeyValue::new(EDITSCOPE_CONTEXT_STEP, step.name.clone()),
                            KeyValue::new(EDITSCOPE_CONTEXT_STEP_US, step.us as i64),
                        ],
                        Status::Unset,
                    );
                    cursor = step_end;
                }
            }
            let mut cursor = t;
            for call in run.model_calls.iter().filter(|c| c.stage == stage.name) {
                cursor = self.model_call(stage_span, call, cursor, stage_end);
            }
            t = stage_end;
        }
        self.spans
    }
}

/// `gen_ai.request.model`: the model the client was configured with when known
/// (`openai:gpt-4o-mini`), else the one that answered.
fn request_model(backend: Option<&str>, call: &TracedCall) -> String {
    match backend.and_then(|b| b.split_once(':')) {
        Some((_, model)) if !model.is_empty() => model.to_string(),
        _ => call.model.clone(),
    }
}

/// The spans of `runs`, run by run.
pub fn spans(runs: &[RunTrace]) -> Vec<SpanData> {
    runs.iter()
        .flat_map(|run| {
            RunSpans {
                run,
                trace_id: trace_id(run),
                next: 0,
                spans: Vec::new(),
            }
            .build()
        })
        .collect()
}

/// The OTLP request that carries `runs`: what a collector receives, in either encoding.
pub fn request(runs: &[RunTrace]) -> ExportTraceServiceRequest {
    let resource = ResourceAttributesWithSchema::from(&resource());
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(spans(runs), &resource),
    }
}

/// The OTLP/JSON document of `runs` (`{"resourceSpans": [...]}`).
pub fn to_json(runs: &[RunTrace]) -> Result<String, ExportError> {
    Ok(serde_json::to_string_pretty(&request(runs))?)
}

/// `URL/v1/traces` for a collector's OTLP/HTTP base URL (`http://localhost:4318`); a URL that
/// already names the traces path is kept as it is.
pub fn traces_url(endpoint: &str) -> String {
    let trimmed = endpoint.trim().trim_end_matches('/');
    if trimmed.ends_with("/v1/traces") {
        trimmed.to_string()
    } else {
        crate::llm::http::endpoint_url(trimmed, TRACES_PATH)
    }
}

/// Sends spans to one collector over OTLP/HTTP protobuf (`POST URL/v1/traces`,
/// `content-type: application/x-protobuf`).
#[derive(Debug)]
pub struct LiveExporter {
    exporter: opentelemetry_otlp::SpanExporter,
    url: String,
}

impl LiveExporter {
    pub fn new(endpoint: &str) -> Result<LiveExporter, ExportError> {
        let url = traces_url(endpoint);
        let invalid = |detail: String| ExportError::Endpoint {
            url: crate::llm::http::redact_userinfo(endpoint),
            detail: crate::llm::http::redact_userinfo(&detail),
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https".into()));
        }
        crate::llm::http::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(LIVE_EXPORT_TIMEOUT)
            .user_agent(concat!("editscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(format!("cannot build the HTTP client: {e}")))?;
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url.clone())
            .with_timeout(LIVE_EXPORT_TIMEOUT)
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        exporter.set_resource(&resource());
        Ok(LiveExporter { exporter, url })
    }

    /// The URL spans are posted to.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn send(&self, runs: &[RunTrace]) -> Result<(), ExportError> {
        self.exporter
            .export(spans(runs))
            .await
            .map_err(|e| ExportError::Send {
                url: crate::llm::http::redact_userinfo(&self.url),
                detail: crate::llm::http::redact_userinfo(&e.to_string()),
            })
    }
}

/// The trace of a run that just ended, with what its row adds (the context build's steps).
pub fn finished_run(
    store: &crate::store::Store,
    backend: &str,
    result: &crate::pipeline::EditResult,
) -> RunTrace {
    let record = result.run_id.and_then(|id| {
        store
            .list_edit_runs(&result.project_id, 20)
            .ok()?
            .into_iter()
            .find(|r| r.id == id)
    });
    RunTrace::from_result(result, record.as_ref(), Some(backend.to_string()))
}

/// Sends `runs` to `endpoint`, best effort: a collector that cannot be reached, or an endpoint
/// that is not a URL, is one warning in the log. For a long-lived caller (a dashboard worker,
/// replay) this is the piece to spawn as a task after each run.
pub async fn send_or_warn(endpoint: &str, runs: &[RunTrace]) {
    let sent = match LiveExporter::new(endpoint) {
        Ok(exporter) => exporter.send(runs).await,
        Err(error) => Err(error),
    };
    match sent {
        Ok(()) => tracing::info!(
            endpoint,
            runs = runs.len(),
            "sent trace spans over OTLP/HTTP"
        ),
        Err(error) => {
            tracing::warn!(
                endpoint,
                "trace export skipped, the edit is unaffected: {error}"
            )
        }
    }
}

/// After a run of `edit`: sends its trace to `endpoint`. Never fails the run (see
/// [`send_or_warn`]).
pub fn send_run_or_warn(
    runtime: &tokio::runtime::Runtime,
    endpoint: &str,
    store: &crate::store::Store,
    backend: &str,
    result: &crate::pipeline::EditResult,
) {
    let run = finished_run(store, backend, result);
    runtime.block_on(send_or_warn(endpoint, std::slice::from_ref(&run)));
}
