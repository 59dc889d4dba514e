import { type SpanContext, TraceFlags } from '@opentelemetry/api';

/**
 * X-Ray's trace header, as SQS carries it in the `AWSTraceHeader` system attribute:
 * `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`. The X-Ray trace id
 * is `1-` + 8 hex digits (epoch seconds) + `-` + 24 hex digits; without its dashes and version it is
 * the 32-hex-digit OpenTelemetry trace id, so the two formats convert both ways without loss.
 */
const ROOT = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/;
const PARENT = /^[0-9a-f]{16}$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);
/** Longer headers are not X-Ray's: refused before any parsing. */
const MAX_HEADER_CHARS = 1024;

/**
 * The span context an `AWSTraceHeader` names (remote), or undefined when the header has no valid
 * `Root` and `Parent` (a header without a parent names no span to link to or continue). Keys are
 * matched case-insensitively and may come in any order; others (`Lineage`, `Self`) are ignored.
 * `Sampled=1` is sampled; `0`, `?` or none is not.
 */
export function parseAwsTraceHeader(header: string): SpanContext | undefined {
  if (header.length > MAX_HEADER_CHARS) return undefined;
  let root: RegExpExecArray | null = null;
  let parent: string | undefined;
  let sampled = false;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (key === 'root') root = ROOT.exec(value);
    else if (key === 'parent') parent = PARENT.test(value) ? value : undefined;
    else if (key === 'sampled') sampled = value === '1';
  }
  if (!root || parent === undefined) return undefined;
  const traceId = `${root[1]}${root[2]}`;
  if (traceId === INVALID_TRACE_ID || parent === INVALID_SPAN_ID) return undefined;
  return {
    traceId,
    spanId: parent,
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
}

/** The `AWSTraceHeader` value naming `spanContext` (its trace state has no X-Ray form and is left out). */
export function formatAwsTraceHeader(spanContext: SpanContext): string {
  const { traceId, spanId, traceFlags } = spanContext;
  const sampled = (traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? 1 : 0;
  return `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanId};Sampled=${sampled}`;
}
