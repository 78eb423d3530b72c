/**
 * The building blocks synthSql assembles its statement from: named random draws, per-archetype
 * constants, and the distribution expressions over them.
 *
 * Every random number is a pure function of (seed, row id, draw number): a 64-bit hash of the
 * row and the seed is rehashed once per draw, and each rehash yields two 32-bit uniforms. No
 * generator state exists, so the threads DuckDB splits `range(N)` across cannot change a value,
 * and with insertion order preserved the same seed writes the same bytes. DuckDB's random() is
 * not used because its sequence depends on how rows are spread over threads.
 */
import { quoteString } from '../db/store.js';
import type { LogNormal, Share, Weights } from './profile.js';

export function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`synth: non-finite constant ${x}`);
  return String(x);
}

/** A DuckDB list literal of constants; a numeric list is typed DOUBLE[]. */
function sqlList(values: readonly (string | number)[]): string {
  const items = values.map((v) => (typeof v === 'number' ? num(v) : quoteString(v))).join(', ');
  return typeof values[0] === 'number' ? `[${items}]::DOUBLE[]` : `[${items}]`;
}

const logit = (p: number): number => Math.log(p / (1 - p));

const TWO_TO_MINUS_32 = `CAST(${num(2 ** -32)} AS DOUBLE)`;

/**
 * Named random draws: uniforms become columns of the `rand` CTE (two per hash), normals
 * columns of the `normal` CTE. Box-Muller turns two uniforms into two independent normals
 * (r cos t, r sin t); both are used, which halves the logarithms and square roots.
 */
export class Draws {
  private slots = 0;
  private readonly uniforms: string[] = [];
  private readonly normals: string[] = [];
  private pendingPair: number | undefined;
  private pairs = 0;

  private uniformSql(): string {
    const slot = this.slots++;
    const col = `h${slot >> 1}`;
    // + 0.5 keeps the uniform strictly inside (0, 1), so ln() in Box-Muller is finite. The
    // casts matter: an integer plus the literal 0.5 would be DECIMAL arithmetic, 10x slower.
    const bits = slot & 1 ? `(${col} >> 32)` : `(${col} & 4294967295)`;
    return `((${bits})::DOUBLE + 0.5) * ${TWO_TO_MINUS_32}`;
  }

  /** A fresh uniform in (0, 1), as a column name. */
  u(name: string): string {
    this.uniforms.push(`${this.uniformSql()} AS u_${name}`);
    return `u_${name}`;
  }

  /** A fresh standard normal, as a column name. */
  z(name: string): string {
    if (this.pendingPair !== undefined) {
      this.normals.push(`bm${this.pendingPair}_r * sin(bm${this.pendingPair}_t) AS z_${name}`);
      this.pendingPair = undefined;
    } else {
      const k = this.pairs++;
      this.uniforms.push(`sqrt(-2.0 * ln(${this.uniformSql()})) AS bm${k}_r`, `${num(2 * Math.PI)} * ${this.uniformSql()} AS bm${k}_t`);
      this.normals.push(`bm${k}_r * cos(bm${k}_t) AS z_${name}`);
      this.pendingPair = k;
    }
    return `z_${name}`;
  }

  /** The hash columns, one per pair of uniforms. */
  hashColumns(): string[] {
    const cols: string[] = [];
    for (let j = 0; j < Math.ceil(this.slots / 2); j++) {
      // Distinct, well-spread 64-bit keys; the rehash (a full avalanche) decorrelates the draws.
      const key = (BigInt(j + 1) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
      cols.push(`hash(xor(hs, ${key.toString()}::UBIGINT)) AS h${j}`);
    }
    return cols;
  }

  uniformColumns(): string[] {
    return [...this.uniforms];
  }

  normalColumns(): string[] {
    return [...this.normals];
  }
}

/**
 * Per-archetype constants, each looked up once per row (`[v_1, ..., v_k][a]`) into a column of
 * the `bound` CTE; identical value lists share a column. Not a join with a parameter table:
 * a hash join's parallel probe does not keep rows in range order, and the bytes depend on it.
 */
export class Params {
  private readonly byKey = new Map<string, string>();
  private readonly lists: (readonly (number | string)[])[] = [];

  constructor(private readonly count: number) {}

  /** The column holding `values[a - 1]` for archetype `a`. */
  of(values: readonly (number | string)[]): string {
    if (values.length !== this.count) throw new Error(`synth: ${values.length} values for ${this.count} archetypes`);
    const key = JSON.stringify(values);
    let col = this.byKey.get(key);
    if (!col) {
      col = `p${this.lists.length}`;
      this.lists.push(values);
      this.byKey.set(key, col);
    }
    return col;
  }

  /** One select-list item per registered column. */
  columns(): string[] {
    return this.lists.map((l, j) => `(${sqlList(l)})[a] AS p${j}`);
  }
}

/**
 * Pick an outcome by weights that differ per archetype; yields the outcome's 0-based index in
 * `outcomes`. A CASE over cumulative thresholds of one uniform.
 */
export function choose(pa: Params, weights: readonly Weights[], outcomes: readonly string[], u: string): string {
  const cum = weights.map((w, a) => {
    for (const k of Object.keys(w)) {
      if (!outcomes.includes(k)) throw new Error(`synth: archetype ${a + 1} weights an unknown outcome "${k}"`);
    }
    const total = outcomes.reduce((s, o) => s + (w[o] ?? 0), 0);
    if (!(total > 0)) throw new Error(`synth: archetype ${a + 1} has no positive weight`);
    let acc = 0;
    return outcomes.map((o) => (acc += (w[o] ?? 0) / total));
  });
  const whens = outcomes.slice(0, -1).map((_, i) => `WHEN ${u} < ${pa.of(cum.map((c) => c[i]!))} THEN ${i}`);
  return `CASE ${whens.join(' ')} ELSE ${outcomes.length - 1} END`;
}

export function lognormal(pa: Params, ps: readonly LogNormal[], z: string): string {
  return `(${pa.of(ps.map((p) => p.median))} * exp(${pa.of(ps.map((p) => p.sigma))} * ${z}))`;
}

/** Logit-normal share; `shift` moves it on the logit scale. */
export function share(pa: Params, ps: readonly Share[], z: string, shift = '0'): string {
  return `(1.0 / (1.0 + exp(-(${pa.of(ps.map((p) => logit(p.median)))} + ${pa.of(ps.map((p) => p.spread))} * ${z} + ${shift}))))`;
}

/** A lookup by a 0-based integer index column, e.g. the UA family's native TLS class. */
export function lookup(values: readonly (string | number)[], index: string): string {
  return `(${sqlList(values)})[${index} + 1]`;
}
