import type { Logger } from '@bg/core';
import { type Span, trace } from '@opentelemetry/api';

type Data = Readonly<Record<string, unknown>> | undefined;
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Wraps a bg {@link Logger} so that every call made inside a span (a handler's run, a send)
 * carries `trace_id`, `span_id` and `trace_flags` in its data, the field names of the
 * OpenTelemetry log data model. `spanFor` may name the span of a call made outside one (the
 * worker's own lines about a job: it looks the job up by `data.jobId`). Levels the logger
 * lacks stay absent.
 *
 * @example
 * ```ts
 * const log = withTraceIds({ info: (msg, data) => console.log(msg, data) })
 * ```
 */
export function withTraceIds(logger: Logger, spanFor?: (data: Data) => Span | undefined): Logger {
  const wrapped: Logger = {};
  for (const level of LEVELS) {
    const write = logger[level];
    if (!write) continue;
    wrapped[level] = (message: string, data?: Readonly<Record<string, unknown>>): void => {
      const span = spanFor?.(data) ?? trace.getActiveSpan();
      const ids = span?.spanContext();
      if (!ids || !trace.isSpanContextValid(ids)) {
        write.call(logger, message, data);
        return;
      }
      write.call(logger, message, {
        ...data,
        trace_id: ids.traceId,
        span_id: ids.spanId,
        trace_flags: `0${(ids.traceFlags & 1).toString(16)}`,
      });
    };
  }
  return wrapped;
}
