/**
 * The runtime evaluator: a ruleset bundle compiled once into an evaluation plan of typed arrays
 * (plan.ts; built by plan-build.ts from each atom's own closure, atoms.ts, which also serves the
 * rare rules the plan's clause form does not fit), then evaluated per session on the hot path: `evaluate` for the full
 * Decision, `decide` for the action alone without allocating. Pure TypeScript with zod for loading: no DuckDB, no AWS SDK,
 * no CLI, no node:fs, and no eval/new Function — the bundle is data, never code.
 *
 * NULL semantics are the compiler's (src/compile/compile.ts, DESIGN.md): an atom on a NULL
 * feature is false, also under `not` (so `not p` is true there), and a rule never yields
 * NULL. Each session is first read into typed slots — numbers into a Float64Array with NaN for
 * NULL (every ordered comparison with NaN is false, exactly what SQL's NULL gives inside
 * `and`/`or`/`CASE WHEN`), booleans into a Uint8Array (0 false, 1 true, 2 NULL), categories into
 * an array of strings or null — so each atom is one comparison on a slot.
 *
 * Bad input on the hot path never throws: a feature that is missing or of the wrong type is
 * reported for every rule that names it (`Decision.errors`), and those rules neither match nor
 * act for that session.
 */
import { BUNDLE_SCHEMA, BundleSchema, type Action, type Bundle, type BundleRule, type FeatureSpec, type Stage } from '../release/schema.js';
import { bundleDigest } from './canonical.js';
import { atomFeatures, compileAtom, RuleProblem, type Slots } from './atoms.js';
import { runPlan, type Plan } from './plan.js';
import { PlanBuilder } from './plan-build.js';
import { readBooleans, readCategories, readNumbers } from './read.js';

export type { Action, Bundle, Stage } from '../release/schema.js';

/** Why loadRuleset refused a bundle. */
export type RulesetErrorReason = 'json' | 'schema-version' | 'sha256' | 'invalid';

/** A bundle that cannot be loaded; `details` lists every problem found. */
export class RulesetError extends Error {
  override readonly name = 'RulesetError';
  constructor(
    readonly reason: RulesetErrorReason,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(details.length ? `${message}\n${details.map((d) => `  - ${d}`).join('\n')}` : message);
  }
}

/** A rule that matched a session. `effective` is what it does at its stage: null for shadow (logged, never acted on). */
export interface Match {
  readonly id: string;
  readonly version: number;
  readonly action: Action;
  readonly stage: Stage;
  readonly effective: Action | null;
}

/** A feature a rule needs that the session lacks or carries with the wrong type. */
export interface EvalError {
  readonly rule: string;
  readonly feature: string;
  readonly problem: 'missing' | 'type';
  /** The catalog type, e.g. "number or null". */
  readonly expected: string;
  /** What the session held, e.g. "string \"12\"" or "undefined". */
  readonly found: string;
}

/** The outcome for one session: the strongest action of the acting matches (null: none). */
export interface Decision {
  readonly action: Action | null;
  /** Every rule that matched, shadow rules included (their `effective` is null), in bundle order. */
  readonly matches: readonly Match[];
  /** Rules that could not be evaluated on this session, with the feature and why; empty normally. */
  readonly errors: readonly EvalError[];
}

/** A session: feature name -> value; null means unknown (SQL NULL). */
export type Session = Readonly<Record<string, unknown>>;

// ------------------------------------------------------------------------------ actions

const RANK: Record<Action, number> = { log: 1, challenge: 2, block: 3 };
const BY_RANK: readonly (Action | null)[] = [null, 'log', 'challenge', 'block'];
const STAGE_CAP: Record<Stage, number> = { shadow: 0, challenge: 2, block: 3 };

/** The action a rule takes at a stage: the stage caps the action; shadow takes none. */
export function effectiveAction(action: Action, stage: Stage): Action | null {
  return BY_RANK[Math.min(RANK[action], STAGE_CAP[stage])]!;
}

// ------------------------------------------------------------------------------ the ruleset

interface Feature {
  name: string;
  type: FeatureSpec['type'];
  index: number;
  /** Indices of the rules that name this feature. */
  rules: number[];
}

/**
 * A loaded ruleset: the bundle's rules compiled once. Evaluate sessions with
 * `evaluate(ruleset, session)` (or `ruleset.evaluate(session)`). Not shared between threads:
 * evaluation reuses internal buffers, so one ruleset serves one thread (load it per worker).
 */
export class Ruleset {
  readonly version: string;
  readonly sha256: string;
  readonly bundle: Bundle;
  readonly rules: readonly Readonly<{
    id: string;
    version: number;
    title: string;
    action: Action;
    stage: Stage;
    effective: Action | null;
    features: readonly string[];
  }>[];
  readonly #plan: Plan;
  readonly #acc: Int32Array;
  readonly #hit: Int32Array;
  readonly #matches: Match[];
  readonly #ranks: Uint8Array;
  /** Per word of rule bits: the rules whose effective action is block, challenge, log. */
  readonly #block: Int32Array;
  readonly #challenge: Int32Array;
  readonly #log: Int32Array;
  readonly #nums: Feature[];
  readonly #bools: Feature[];
  readonly #cats: Feature[];
  readonly #numNames: string[];
  readonly #boolNames: string[];
  readonly #catNames: string[];
  readonly #n: Float64Array;
  readonly #b: Uint8Array;
  readonly #c: (string | null)[];
  readonly #skip: Uint8Array;

  /** Use loadRuleset: it verifies the bundle first. */
  constructor(bundle: Bundle) {
    this.bundle = bundle;
    this.version = bundle.version;
    this.sha256 = bundle.sha256;
    const problems: string[] = [];
    const features = new Map<string, Feature>();
    const perType = { number: [] as Feature[], boolean: [] as Feature[], category: [] as Feature[] };
    bundle.rules.forEach((r, ri) => {
      const declared = new Map(r.features.map((f) => [f.name, f]));
      for (const name of atomFeatures(r.ast, new Set())) {
        const spec = declared.get(name);
        if (!spec) {
          problems.push(`rule ${r.id}: the condition names ${name}, which its features do not declare`);
          continue;
        }
        let f = features.get(name);
        if (!f) {
          f = { name, type: spec.type, index: perType[spec.type].length, rules: [] };
          perType[spec.type].push(f);
          features.set(name, f);
        } else if (f.type !== spec.type) {
          problems.push(`rule ${r.id}: feature ${name} is declared ${spec.type}, another rule declares it ${f.type}`);
          continue;
        }
        f.rules.push(ri);
      }
    });
    const slots: Slots = {
      slot: (name) => {
        const f = features.get(name);
        if (!f) throw new RuleProblem(`unknown feature ${name}`);
        return { type: f.type, index: f.index };
      },
    };
    const counts = { number: perType.number.length, boolean: perType.boolean.length, category: perType.category.length };
    const builder = new PlanBuilder(counts, slots.slot, (a) => compileAtom(a, slots));
    bundle.rules.forEach((r) => {
      try {
        builder.rule(r.ast);
      } catch (e) {
        if (!(e instanceof RuleProblem)) throw e;
        problems.push(`rule ${r.id}: ${e.message}`);
      }
    });
    const ids = new Set<string>();
    for (const r of bundle.rules) {
      if (ids.has(r.id)) problems.push(`rule ${r.id} appears twice`);
      ids.add(r.id);
    }
    if (problems.length) throw new RulesetError('invalid', `the ruleset ${bundle.version} is not valid`, problems);
    this.#plan = builder.build();
    this.#acc = new Int32Array(this.#plan.width);
    this.#hit = new Int32Array(this.#plan.words);
    this.rules = Object.freeze(
      bundle.rules.map((r: BundleRule) =>
        Object.freeze({
          id: r.id,
          version: r.version,
          title: r.title,
          action: r.action,
          stage: r.stage,
          effective: effectiveAction(r.action, r.stage),
          features: Object.freeze([...atomFeatures(r.ast, new Set())]),
        }),
      ),
    );
    // Match objects are made once here: a session that matches allocates only the array.
    this.#matches = this.rules.map((r) => Object.freeze({ id: r.id, version: r.version, action: r.action, stage: r.stage, effective: r.effective }));
    this.#ranks = Uint8Array.from(this.rules.map((r) => (r.effective ? RANK[r.effective] : 0)));
    const mask = (a: Action) => {
      const m = new Int32Array(this.#plan.words);
      this.rules.forEach((r, i) => r.effective === a && (m[i >>> 5]! |= 1 << (i & 31)));
      return m;
    };
    this.#block = mask('block');
    this.#challenge = mask('challenge');
    this.#log = mask('log');
    this.#nums = perType.number;
    this.#bools = perType.boolean;
    this.#cats = perType.category;
    this.#numNames = this.#nums.map((f) => internalized(f.name));
    this.#boolNames = this.#bools.map((f) => internalized(f.name));
    this.#catNames = this.#cats.map((f) => internalized(f.name));
    this.#n = new Float64Array(this.#nums.length);
    this.#b = new Uint8Array(this.#bools.length);
    this.#c = new Array<string | null>(this.#cats.length).fill(null);
    this.#skip = new Uint8Array(bundle.rules.length);
  }

  /** The features this ruleset reads, with their types. */
  features(): { name: string; type: FeatureSpec['type'] }[] {
    return [...this.#nums, ...this.#bools, ...this.#cats].map((f) => ({ name: f.name, type: f.type }));
  }

  /** Read the session into the slots; false when some feature is missing or of the wrong type. */
  #read(s: Record<string, unknown>): boolean {
    return readNumbers(s, this.#numNames, this.#n) + readBooleans(s, this.#boolNames, this.#b) + readCategories(s, this.#catNames, this.#c) === 0;
  }

  /** The strongest effective action among the rules whose bits are set in `hit`. */
  #action(hit: Int32Array): Action | null {
    const block = this.#block;
    const challenge = this.#challenge;
    const log = this.#log;
    let bl = 0;
    let ch = 0;
    let lg = 0;
    for (let w = 0; w < hit.length; w++) {
      const h = hit[w]!;
      bl |= h & block[w]!;
      ch |= h & challenge[w]!;
      lg |= h & log[w]!;
    }
    return bl !== 0 ? 'block' : ch !== 0 ? 'challenge' : lg !== 0 ? 'log' : null;
  }

  /**
   * Evaluate one session. Never throws on a bad session: see `Decision.errors`. A session that
   * matches nothing gets one shared, frozen Decision; otherwise the Decision and its matches
   * array are new (the Match objects in it are shared and frozen). No later call changes a
   * Decision already returned.
   */
  evaluate(session: Session): Decision {
    const s = session as Record<string, unknown>;
    if (!this.#read(s)) return this.#evaluateWithErrors(s);
    const hit = this.#hit;
    runPlan(this.#plan, this.#n, this.#b, this.#c, this.#acc, hit);
    const W = hit.length;
    let k = 0;
    for (let w = 0; w < W; w++) k += popcount(hit[w]!);
    if (k === 0) return NO_MATCH;
    const all = this.#matches;
    const matched = new Array<Match>(k);
    let j = 0;
    for (let w = 0; w < W; w++) {
      let u = hit[w]!;
      while (u !== 0) {
        const low = u & -u;
        matched[j++] = all[w * 32 + 31 - Math.clz32(low)]!;
        u ^= low;
      }
    }
    return { action: this.#action(hit), matches: matched, errors: NONE };
  }

  /**
   * Only the action of one session: `evaluate(session).action`, without building the Decision —
   * no allocation at all unless some feature is bad (then it takes evaluate's slow path, and
   * rules naming a bad feature neither match nor act, as there).
   */
  decide(session: Session): Action | null {
    const s = session as Record<string, unknown>;
    if (!this.#read(s)) return this.#evaluateWithErrors(s).action;
    runPlan(this.#plan, this.#n, this.#b, this.#c, this.#acc, this.#hit);
    return this.#action(this.#hit);
  }

  /** The slow path: some feature is bad; rules that name one report it and are skipped. */
  #evaluateWithErrors(s: Record<string, unknown>): Decision {
    const skip = this.#skip;
    skip.fill(0);
    const errors: EvalError[] = [];
    const bad: Feature[] = [
      ...this.#nums.filter((f) => !isNumber(s[f.name])),
      ...this.#bools.filter((f) => !isBoolean(s[f.name])),
      ...this.#cats.filter((f) => !isCategory(s[f.name])),
    ];
    for (const f of bad) {
      const v = s[f.name];
      const missing = v === undefined || !Object.hasOwn(s, f.name);
      for (const ri of f.rules) {
        skip[ri] = 1;
        errors.push(
          Object.freeze({
            rule: this.rules[ri]!.id,
            feature: f.name,
            problem: missing ? 'missing' : 'type',
            expected: `${f.type === 'category' ? 'a string' : `a ${f.type}`} or null`,
            found: missing ? 'nothing' : describe(v),
          }),
        );
      }
    }
    const matches: Match[] = [];
    let best = 0;
    const preds = this.#plan.preds;
    for (let i = 0; i < this.#ranks.length; i++) {
      if (skip[i] || !preds[i]!(this.#n, this.#b, this.#c)) continue;
      matches.push(this.#matches[i]!);
      if (this.#ranks[i]! > best) best = this.#ranks[i]!;
    }
    return { action: BY_RANK[best]!, matches, errors };
  }
}

const isNumber = (v: unknown) => v === null || (typeof v === 'number' && v === v);
const isBoolean = (v: unknown) => v === null || typeof v === 'boolean';
const isCategory = (v: unknown) => v === null || typeof v === 'string';

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}

/**
 * The same text as a property-key string. Names parsed from a bundle are ordinary heap
 * strings; a keyed load with one makes V8 look it up in its string table on every access,
 * while a property key is already interned: about 3x faster per session (bench/runtime.mjs).
 */
function internalized(name: string): string {
  return Object.keys({ [name]: 0 })[0]!;
}

const NONE: readonly never[] = Object.freeze([]);
const NO_MATCH: Decision = Object.freeze({ action: null, matches: NONE, errors: NONE });

function describe(v: unknown): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : `number ${v}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v;
}

// ------------------------------------------------------------------------------ loading

function issuesOf(e: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string[] {
  return e.issues.slice(0, 20).map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`);
}

/**
 * Load a bundle (its JSON text, or the parsed document). Refuses — throws RulesetError with
 * the reason — unless the document is this runtime's schema version, its sha256 matches its
 * content, it fits the schema, and every condition fits its declared features.
 */
export function loadRuleset(input: string | unknown): Ruleset {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      throw new RulesetError('json', `the ruleset is not JSON: ${(e as Error).message}`);
    }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new RulesetError('invalid', 'the ruleset must be a JSON object');
  const d = doc as Record<string, unknown>;
  if (d['schema'] !== BUNDLE_SCHEMA) {
    throw new RulesetError('schema-version', `unknown ruleset schema ${JSON.stringify(d['schema'])}: this runtime reads ${BUNDLE_SCHEMA} only`);
  }
  if (typeof d['sha256'] !== 'string') throw new RulesetError('sha256', 'the ruleset carries no sha256');
  let digest: string;
  try {
    digest = bundleDigest(d);
  } catch (e) {
    throw new RulesetError('invalid', `the ruleset cannot be canonicalised: ${(e as Error).message}`);
  }
  if (digest !== d['sha256'])
    throw new RulesetError('sha256', `sha256 mismatch: the ruleset says ${d['sha256']}, its content hashes to ${digest} (changed or truncated after release)`);
  const parsed = BundleSchema.safeParse(d);
  if (!parsed.success) throw new RulesetError('invalid', 'the ruleset does not fit its schema', issuesOf(parsed.error));
  return new Ruleset(parsed.data);
}

/** Evaluate one session against a loaded ruleset (the same as `ruleset.evaluate(session)`). */
export function evaluate(ruleset: Ruleset, session: Session): Decision {
  return ruleset.evaluate(session);
}

/**
 * The action alone for one session (the same as `ruleset.decide(session)`): always equal to
 * `evaluate(ruleset, session).action`, allocation-free for a session without bad features.
 */
export function decide(ruleset: Ruleset, session: Session): Action | null {
  return ruleset.decide(session);
}
