// The 100 rules of the backtest benchmark (issue 4), generated deterministically, and three
// writers for each: rulegen's condition language, the equivalent hand-written DuckDB SQL (plain
// literals) and a numpy boolean-mask expression.
//
// NULL semantics follow rulegen's (DESIGN.md, src/compile/compile.ts): an atom on NULL is false,
// also under `not` (so `not p` is true where p's column is NULL). In the hand-written SQL that
// only needs care for `not`, written `x IS NOT TRUE`; every other atom gives NULL on NULL, which
// `and`/`or` and `CASE WHEN` treat exactly as false. In numpy, numbers are float64 with NaN for
// NULL (every ordered comparison with NaN is false; `!=` is never used on numbers), booleans are
// int8 (1, 0, -1 for NULL) and categories are int8 codes into the catalog's value list (-1 NULL).
//
// Usage: import { RULES, conditionOf, sqlOf, numpyOf, handWrittenStatement } from './rules-100.mjs'
//        node bench/rules-100.mjs            # prints the 100 conditions

/** Every term the generator may pick, grouped by feature; thresholds from the synthetic data's
 * per-label quantiles (bots on one side, most people on the other). */
const ATOMS = {
  requests_per_minute: [
    ['>', 20],
    ['>', 30],
    ['>', 40],
    ['>', 60],
    ['>', 90],
    ['between', 25, 200],
  ],
  static_asset_ratio: [
    ['<', 0.02],
    ['<', 0.05],
    ['<', 0.1],
    ['<=', 0.2],
  ],
  mean_interarrival_ms: [
    ['<', 500],
    ['<', 1000],
    ['<', 2000],
    ['<', 3000],
  ],
  interarrival_cv: [
    ['<', 0.1],
    ['<', 0.2],
    ['<', 0.3],
    ['<', 0.5],
    ['between', 0.01, 0.25],
  ],
  login_post_count: [
    ['>=', 3],
    ['>=', 5],
    ['>', 10],
  ],
  status_401_403_count: [
    ['>=', 2],
    ['>=', 3],
    ['>', 5],
  ],
  error_4xx_ratio: [
    ['>', 0.03],
    ['>', 0.05],
    ['>', 0.1],
    ['>=', 0.2],
  ],
  pointer_events: [['=', 0], ['<', 5], ['isnull'], ['<=', 2]],
  keyboard_nav_ratio: [
    ['<', 0.01],
    ['>', 0.5],
  ],
  plugins_count: [
    ['=', 0],
    ['<', 1],
  ],
  night_activity_ratio: [
    ['>', 0.2],
    ['>', 0.3],
    ['>=', 0.5],
  ],
  sessions_per_ip: [
    ['>', 10],
    ['>', 20],
    ['>=', 50],
    ['between', 20, 500],
  ],
  session_duration_s: [
    ['>', 1200],
    ['<', 60],
    ['>', 3000],
  ],
  pages_per_session: [
    ['>', 100],
    ['>', 300],
    ['>=', 1000],
  ],
  distinct_paths: [
    ['>', 50],
    ['>', 200],
    ['>', 500],
  ],
  head_request_ratio: [
    ['>', 0.02],
    ['>', 0.05],
    ['>=', 0.1],
  ],
  request_count: [
    ['>', 200],
    ['>', 500],
    ['>', 2000],
  ],
  webdriver_flag: [['true'], ['= true']],
  js_executed: [['= false'], ['not']],
  cookies_enabled: [['= false'], ['not']],
  robots_txt_fetched: [['true']],
  referrer_present: [['= false'], ['not']],
  accept_language_present: [['= false'], ['not']],
  ua_family: [
    ['in', ['python_requests', 'go_http', 'curl']],
    ['=', 'headless_chrome'],
    ['=', 'crawler'],
    ['in', ['headless_chrome', 'python_requests']],
    ['not in', ['chrome', 'firefox', 'safari', 'edge', 'chrome_mobile', 'mobile_safari']],
  ],
  tls_fingerprint_class: [
    ['in', ['python', 'go', 'curl']],
    ['in', ['go', 'java']],
    ['!=', 'chromium'],
    ['not in', ['chromium', 'firefox', 'safari']],
  ],
  asn_type: [
    ['=', 'hosting'],
    ['in', ['hosting', 'business']],
    ['not in', ['residential', 'mobile']],
    ['!=', 'residential'],
  ],
};

const FEATURES = Object.keys(ATOMS);
const BOOLEANS = new Set(['webdriver_flag', 'js_executed', 'cookies_enabled', 'robots_txt_fetched', 'referrer_present', 'accept_language_present']);
const CATEGORIES = new Set(['ua_family', 'tls_fingerprint_class', 'asn_type']);

/** mulberry32: a small, fixed PRNG, so the rule set never changes between runs or machines. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function term(feature, atom) {
  const [op, a, b] = atom;
  if (BOOLEANS.has(feature)) {
    if (op === 'true') return { kind: 'bool', f: feature };
    if (op === '= true') return { kind: 'booleq', f: feature, value: true };
    if (op === '= false') return { kind: 'booleq', f: feature, value: false };
    return { kind: 'not', f: feature };
  }
  if (CATEGORIES.has(feature)) {
    if (op === 'in' || op === 'not in') return { kind: 'in', f: feature, values: a, negated: op === 'not in' };
    return { kind: 'cateq', f: feature, value: a, negated: op === '!=' };
  }
  if (op === 'isnull') return { kind: 'isnull', f: feature };
  if (op === 'between') return { kind: 'between', f: feature, lo: a, hi: b };
  return { kind: 'cmp', f: feature, op, v: a };
}

/**
 * `count` rules of 2 or 3 terms on distinct features. Shapes: `a and b` (most), `a or b`,
 * `a and b and c`, `a and (b or c)`.
 */
export function generateRules(count = 100, seed = 4) {
  const rnd = prng(seed);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const seen = new Set();
  const rules = [];
  while (rules.length < count) {
    const n = rnd() < 0.55 ? 2 : 3;
    const feats = [];
    while (feats.length < n) {
      const f = pick(FEATURES);
      if (!feats.includes(f)) feats.push(f);
    }
    const terms = feats.map((f) => term(f, pick(ATOMS[f])));
    const r = rnd();
    const shape = n === 2 ? (r < 0.12 ? 'or' : 'and') : r < 0.25 ? 'and-or' : 'and';
    const rule = { index: rules.length, terms, shape };
    const key = conditionOf(rule);
    if (seen.has(key)) continue;
    seen.add(key);
    rules.push(rule);
  }
  return rules;
}

// ---------------------------------------------------------------- writers

const num = (v) => String(v);
const sqlStr = (s) => `'${s.replaceAll("'", "''")}'`;

function combine(parts, shape, and, or, paren) {
  if (shape === 'and') return parts.join(` ${and} `);
  if (shape === 'or') return parts.join(` ${or} `);
  return `${parts[0]} ${and} ${paren(`${parts[1]} ${or} ${parts[2]}`)}`;
}

function termCondition(t) {
  switch (t.kind) {
    case 'cmp':
      return `${t.f} ${t.op} ${num(t.v)}`;
    case 'between':
      return `${t.f} between ${num(t.lo)} and ${num(t.hi)}`;
    case 'isnull':
      return `${t.f} is null`;
    case 'bool':
      return t.f;
    case 'booleq':
      return `${t.f} = ${t.value}`;
    case 'not':
      return `not ${t.f}`;
    case 'in':
      return `${t.f} ${t.negated ? 'not in' : 'in'} (${t.values.map(sqlStr).join(', ')})`;
    case 'cateq':
      return `${t.f} ${t.negated ? '!=' : '='} ${sqlStr(t.value)}`;
  }
  throw new Error(`unknown term ${t.kind}`);
}

/** The rule in rulegen's condition language. */
export function conditionOf(rule) {
  return combine(rule.terms.map(termCondition), rule.shape, 'and', 'or', (s) => `(${s})`);
}

function termSql(t) {
  switch (t.kind) {
    case 'cmp':
      return `${t.f} ${t.op === '!=' ? '<>' : t.op} ${num(t.v)}`;
    case 'between':
      return `${t.f} BETWEEN ${num(t.lo)} AND ${num(t.hi)}`;
    case 'isnull':
      return `${t.f} IS NULL`;
    case 'bool':
      return t.f;
    case 'booleq':
      return `${t.f} = ${t.value}`;
    // rulegen: `not p` is true where p's column is NULL
    case 'not':
      return `${t.f} IS NOT TRUE`;
    case 'in':
      return `${t.f} ${t.negated ? 'NOT IN' : 'IN'} (${t.values.map(sqlStr).join(', ')})`;
    case 'cateq':
      return `${t.f} ${t.negated ? '<>' : '='} ${sqlStr(t.value)}`;
  }
  throw new Error(`unknown term ${t.kind}`);
}

/** The rule as a plain DuckDB predicate with literals, as a person would type it. */
export function sqlOf(rule) {
  return combine(rule.terms.map(termSql), rule.shape, 'AND', 'OR', (s) => `(${s})`);
}

/**
 * The single hand-written statement: one `sum(CASE WHEN ... THEN 1 ELSE 0 END)` per rule,
 * grouped by label, over the test window (`ts >= cutoff`, cutoff as a TIMESTAMP literal).
 */
export function handWrittenStatement(rules, cutoff, table = 'sessions') {
  const sums = rules.map((r, i) => `  sum(CASE WHEN ${sqlOf(r)} THEN 1 ELSE 0 END) AS h${i}`).join(',\n');
  return `SELECT label, count(*) AS n,\n${sums}\nFROM ${table}\nWHERE ts >= TIMESTAMP '${cutoff}'\nGROUP BY label`;
}

/**
 * The rule as a numpy expression over arrays named after the features. `codes` maps each
 * category feature to its value list (the int8 code of a value is its index there).
 */
export function numpyOf(rule, codes) {
  const code = (f, v) => {
    const i = codes[f]?.indexOf(v) ?? -1;
    if (i < 0) throw new Error(`${f}: no code for ${v}`);
    return i;
  };
  const termNp = (t) => {
    switch (t.kind) {
      case 'cmp': {
        if (t.op === '!=') throw new Error('!= on a number is not NULL-safe in numpy');
        return `(${t.f} ${t.op === '=' ? '==' : t.op} ${num(t.v)})`;
      }
      case 'between':
        return `((${t.f} >= ${num(t.lo)}) & (${t.f} <= ${num(t.hi)}))`;
      case 'isnull':
        return `np.isnan(${t.f})`;
      case 'bool':
        return `(${t.f} == 1)`;
      case 'booleq':
        return `(${t.f} == ${t.value ? 1 : 0})`;
      case 'not':
        return `(${t.f} != 1)`;
      case 'in': {
        const any = t.values.map((v) => `(${t.f} == ${code(t.f, v)})`).join(' | ');
        return t.negated ? `((${t.f} >= 0) & ~(${any}))` : `(${any})`;
      }
      case 'cateq':
        return t.negated ? `((${t.f} >= 0) & (${t.f} != ${code(t.f, t.value)}))` : `(${t.f} == ${code(t.f, t.value)})`;
    }
    throw new Error(`unknown term ${t.kind}`);
  };
  return combine(rule.terms.map(termNp), rule.shape, '&', '|', (s) => `(${s})`);
}

/** The columns the rules read, in a fixed order. */
export function featuresOf(rules) {
  return [...new Set(rules.flatMap((r) => r.terms.map((t) => t.f)))].sort();
}

export const featureKind = (f) => (BOOLEANS.has(f) ? 'boolean' : CATEGORIES.has(f) ? 'category' : 'number');

export const RULES = generateRules();

if (import.meta.url === `file://${process.argv[1]}`) {
  RULES.forEach((r, i) => console.log(`${String(i + 1).padStart(3)}  ${conditionOf(r)}`));
}
