import { z } from 'zod';

/**
 * How one stack parameter may be set by a user. CloudFormation parameters are strings; a
 * number may be given as a JSON number or a numeric string (af-user's users wrote `"25"`).
 */
export type ParameterRule = NumericRule | EnumRule | TextRule;

export interface NumericRule {
  readonly type: 'integer' | 'number';
  readonly min: number;
  readonly max: number;
  readonly default?: number;
  /** Another numeric parameter this one may not exceed (`ComputeInitialNodes` ≤ `ComputeMaxNodes`). */
  readonly notAbove?: string;
}

export interface EnumRule {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly default?: string;
}

export interface TextRule {
  readonly type: 'string';
  /** A regular expression the whole value must match (anchored for you). */
  readonly pattern: string;
  readonly maxLength: number;
  readonly default?: string;
}

function isNumeric(rule: ParameterRule | undefined): rule is NumericRule {
  return rule?.type === 'integer' || rule?.type === 'number';
}

/**
 * What a cluster request may set, and what it may not:
 * - `overridable`: the allow-list, with types, bounds and defaults; any other key is refused;
 * - `fixed`: set by the service for every request (`{uid}` becomes the requester's user id);
 *   a request naming one is refused, never merged (af-user let users override these).
 */
export interface ParameterPolicy {
  readonly overridable: Readonly<Record<string, ParameterRule>>;
  readonly fixed: Readonly<Record<string, string>>;
}

const INSTANCE_OTHER = '[a-z][a-z0-9]*\\.[a-z0-9]+-[0-9]+C-[0-9]+(\\.[0-9]+)?GB';

/**
 * af-user's parameters with bounds: its eleven defaults, `AccessUsername` and
 * `FlightProfiles` fixed to the user id, at most 8 compute nodes, a spot bid of at most
 * 1 USD/hour and a system volume of 16–512 GiB (af-user had no caps).
 *
 * @example
 * ```ts
 * resolveParameters(afUserParameterPolicy, { ComputeMaxNodes: '6' }, 'alice');
 * ```
 */
export const afUserParameterPolicy: ParameterPolicy = {
  overridable: {
    ComputeInstanceType: { type: 'enum', values: ['other'], default: 'other' },
    ComputeInstanceTypeOther: {
      type: 'string',
      pattern: INSTANCE_OTHER,
      maxLength: 64,
      default: 'c4.large-2C-3.75GB',
    },
    MasterInstanceType: { type: 'enum', values: ['other'], default: 'other' },
    MasterInstanceTypeOther: {
      type: 'string',
      pattern: INSTANCE_OTHER,
      maxLength: 64,
      default: 'c4.large-2C-3.75GB',
    },
    ComputeSpotPrice: { type: 'number', min: 0, max: 1, default: 0.03 },
    AutoscalingPolicy: { type: 'enum', values: ['enabled', 'disabled'], default: 'enabled' },
    ComputeInitialNodes: { type: 'integer', min: 0, max: 8, default: 1, notAbove: 'ComputeMaxNodes' },
    ComputeMaxNodes: { type: 'integer', min: 1, max: 8, default: 4 },
    MasterSystemVolumeSize: { type: 'integer', min: 16, max: 512, default: 16 },
  },
  fixed: { AccessUsername: '{uid}', FlightProfiles: '{uid}' },
};

const PARAMETER_NAME = /^[A-Za-z0-9]{1,255}$/;
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const ruleSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.enum(['integer', 'number']),
    min: finite,
    max: finite,
    default: finite.optional(),
    notAbove: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('enum'),
    values: z.array(z.string().max(4096)).min(1),
    default: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('string'),
    pattern: z.string().min(1),
    maxLength: z.number().int().min(1).max(4096),
    default: z.string().optional(),
  }),
]);

/** The JSON form of a `ParameterPolicy` (the `SPOTJOBS_CLUSTERS_PARAMETER_POLICY` setting). */
export const parameterPolicySchema = z.strictObject({
  overridable: z.record(z.string(), ruleSchema),
  fixed: z.record(z.string(), z.string().max(4096)),
});

/**
 * What is wrong with a policy as a whole: names CloudFormation would refuse, a parameter both
 * fixed and overridable, bounds the wrong way round, defaults that break their own rule,
 * patterns that do not compile, `notAbove` naming no numeric parameter.
 *
 * @example
 * ```ts
 * parameterPolicyProblems({ overridable: { A: { type: 'integer', min: 2, max: 1 } }, fixed: {} });
 * // ['A: min 2 is above max 1']
 * ```
 */
export function parameterPolicyProblems(policy: ParameterPolicy): string[] {
  const problems: string[] = [];
  for (const name of [...Object.keys(policy.overridable), ...Object.keys(policy.fixed)]) {
    if (!PARAMETER_NAME.test(name))
      problems.push(`${JSON.stringify(name)}: not a CloudFormation parameter name`);
  }
  for (const [name, rule] of Object.entries(policy.overridable)) {
    if (Object.hasOwn(policy.fixed, name)) problems.push(`${name}: both fixed and overridable`);
    if (isNumeric(rule)) {
      if (rule.min > rule.max) problems.push(`${name}: min ${rule.min} is above max ${rule.max}`);
      if (rule.notAbove !== undefined && !isNumeric(policy.overridable[rule.notAbove]))
        problems.push(`${name}: notAbove names no numeric overridable parameter`);
    }
    if (rule.type === 'string') {
      try {
        new RegExp(rule.pattern, 'u');
      } catch {
        problems.push(`${name}: pattern does not compile`);
        continue;
      }
    }
    if (rule.default !== undefined) {
      const checked = checkValue(rule, rule.default);
      if ('problem' in checked) problems.push(`${name}: default ${checked.problem}`);
    }
  }
  return problems;
}

const INTEGER_TEXT = /^-?[0-9]{1,15}$/;
const DECIMAL_TEXT = /^-?[0-9]{1,15}(\.[0-9]{1,15})?$/;

/** One value against its rule: the canonical string CloudFormation gets, or why not. */
function checkValue(rule: ParameterRule, value: unknown): { value: string } | { problem: string } {
  if (isNumeric(rule)) {
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !(rule.type === 'integer' ? INTEGER_TEXT : DECIMAL_TEXT).test(text))
      return { problem: `must be ${rule.type === 'integer' ? 'a whole number' : 'a number'}` };
    const n = Number(text);
    if (n < rule.min || n > rule.max) return { problem: `must be between ${rule.min} and ${rule.max}` };
    return { value: String(n) };
  }
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string') return { problem: 'must be a string' };
  if (rule.type === 'enum') {
    return rule.values.includes(text)
      ? { value: text }
      : { problem: `must be one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  if (text.length > rule.maxLength) return { problem: `must be at most ${rule.maxLength} characters` };
  if (!new RegExp(`^(?:${rule.pattern})$`, 'u').test(text)) return { problem: 'has the wrong form' };
  return { value: text };
}

/** At most this many problems are listed in an answer; a hostile request cannot make it huge. */
const MAX_PROBLEMS = 20;

function quoteName(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
}

/**
 * The stack parameters for one request (pure): the policy's defaults, the request's
 * overrides checked against the allow-list, then the fixed parameters with `{uid}` filled in.
 * Every problem is reported at once: a fixed parameter named, an unknown one, a value of the
 * wrong type or out of bounds, a `notAbove` pair the wrong way round.
 *
 * @example
 * ```ts
 * resolveParameters(afUserParameterPolicy, { AccessUsername: 'root' }, 'alice');
 * // { problems: ['"AccessUsername" is set by the service from your user id and cannot be overridden'] }
 * ```
 */
export function resolveParameters(
  policy: ParameterPolicy,
  overrides: unknown,
  uid: string,
): { parameters: Record<string, string> } | { problems: string[] } {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))
    return { problems: ['the request must be a JSON object of parameter names to values'] };
  const problems: string[] = [];
  let unknown = false;
  const parameters: Record<string, string> = {};
  for (const [name, rule] of Object.entries(policy.overridable)) {
    if (rule.default !== undefined) parameters[name] = String(rule.default);
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (Object.hasOwn(policy.fixed, name)) {
      problems.push(`${quoteName(name)} is set by the service from your user id and cannot be overridden`);
      continue;
    }
    const rule = Object.hasOwn(policy.overridable, name) ? policy.overridable[name] : undefined;
    if (!rule) {
      problems.push(`${quoteName(name)} is not a parameter you can set`);
      unknown = true;
      continue;
    }
    const checked = checkValue(rule, value);
    if ('problem' in checked) problems.push(`${quoteName(name)} ${checked.problem}`);
    else parameters[name] = checked.value;
  }
  for (const [name, rule] of Object.entries(policy.overridable)) {
    if (!isNumeric(rule) || rule.notAbove === undefined) continue;
    const mine = parameters[name];
    const limit = parameters[rule.notAbove];
    if (mine !== undefined && limit !== undefined && Number(mine) > Number(limit))
      problems.push(`${quoteName(name)} (${mine}) must not be above ${quoteName(rule.notAbove)} (${limit})`);
  }
  if (problems.length > 0) {
    if (unknown) problems.push(`parameters you can set: ${overridableNames(policy).join(', ')}`);
    const shown = problems.slice(0, MAX_PROBLEMS);
    if (problems.length > MAX_PROBLEMS) shown.push(`and ${problems.length - MAX_PROBLEMS} more problems`);
    return { problems: shown };
  }
  for (const [name, template] of Object.entries(policy.fixed))
    parameters[name] = template.replaceAll('{uid}', uid);
  return { parameters };
}

/** The allowed parameter names, for answers that list them. */
export function overridableNames(policy: ParameterPolicy): string[] {
  return Object.keys(policy.overridable).sort();
}
