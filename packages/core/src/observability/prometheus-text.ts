// Pieces of the Prometheus text exposition format 0.0.4, kept apart from the registry so
// the format's escaping rules sit in one place.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

/** The `Content-Type` of `MetricsRegistry.render()`'s output. */
export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function metricNameProblem(name: string): string | undefined {
  return metricName.test(name) ? undefined : `metric name ${JSON.stringify(name)} must match ${metricName}`;
}

export function labelNameProblem(name: string): string | undefined {
  if (!labelName.test(name)) return `label name ${JSON.stringify(name)} must match ${labelName}`;
  // Names starting with __ are reserved for Prometheus itself.
  return name.startsWith('__') ? `label name ${JSON.stringify(name)} is reserved` : undefined;
}

/** HELP text escapes only backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values also escape the double quote. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `name{a="x",b="y"} value`, or `name value` without labels. */
export function sampleLine(
  name: string,
  names: readonly string[],
  values: readonly string[],
  value: number,
): string {
  if (names.length === 0) return `${name} ${formatValue(value)}`;
  const pairs = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? '')}"`);
  return `${name}{${pairs.join(',')}} ${formatValue(value)}`;
}
