/**
 * Inline SVG charts for docs/report.html: no script, no external asset, so the page renders
 * the same from a mail attachment, a CI artifact or a file:// URL. Geometry is computed here in
 * TypeScript (a template language is the wrong place for arithmetic); the templates only place
 * the finished markup. Every chart carries a <title>, axis labels and a data table fallback,
 * and has a fixed intrinsic size (width/height attributes) so it never collapses to zero.
 */

/** Escape text for HTML element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Fixed decimals; the output is deterministic (no locale). */
const fixed = (x: number, d: number) => (Object.is(x, -0) ? 0 : x).toFixed(d);

/** A fraction as a percentage with few digits, for axis ticks and tables. */
export function pctTick(x: number | null): string {
  if (x === null) return 'n/a';
  const p = 100 * x;
  if (p === 0) return '0%';
  if (Math.abs(p) >= 10) return `${fixed(p, 0)}%`;
  if (Math.abs(p) >= 1) return `${fixed(p, 1)}%`;
  if (Math.abs(p) >= 0.1) return `${fixed(p, 2)}%`;
  return `${fixed(p, 3)}%`;
}

export function countTick(x: number | null): string {
  if (x === null) return 'n/a';
  if (Math.abs(x) >= 10_000) return `${fixed(x / 1000, 0)}k`;
  if (Math.abs(x) >= 1000) return `${fixed(x / 1000, 1)}k`;
  return Number.isInteger(x) ? String(x) : fixed(x, 2);
}

export function numberLabel(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** A "nice" upper bound and tick step for an axis from 0 to `max`. */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.25 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  return { top: step * Math.ceil(max / step - 1e-9), step };
}

export interface Series {
  name: string;
  values: readonly (number | null)[];
  kind: 'bar' | 'line';
  axis: 'left' | 'right';
  /** A CSS class from the report's stylesheet (colour lives in CSS, not in the markup). */
  cls: string;
  format: (x: number | null) => string;
}

export interface ChartSpec {
  /** Unique in the page; used for element ids. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  y2Label?: string;
  categories: readonly string[];
  series: readonly Series[];
  /** Dashed horizontal reference lines, e.g. the gate's max FPR. */
  refLines?: readonly { axis: 'left' | 'right'; value: number; label: string }[];
  /** Index of a category to highlight (the current threshold). */
  markIndex?: number;
  /** Index of the first category after a split (the test window): a dashed vertical line before it. */
  splitIndex?: number;
  /** The first column's header in the data table. */
  tableHeader?: string;
  /**
   * A numeric x axis: each category's value, ascending. Points then sit at their value's
   * position (0.13 and 0.132 nearly together, 0.5 far off) instead of an equal step apart.
   */
  xValues?: readonly number[];
}

export interface Chart {
  id: string;
  title: string;
  /** Trusted markup: built here from escaped parts. */
  svg: string;
  table: { head: string[]; rows: string[][] };
}

const W = 640;
const H = 280;
const M = { top: 20, right: 64, bottom: 64, left: 64 };

/** A bar/line chart over categories with one or two value axes. */
export function xyChart(spec: ChartSpec): Chart {
  const n = Math.max(1, spec.categories.length);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const band = pw / n;
  const xs = spec.xValues && spec.xValues.length === n && n > 1 ? spec.xValues : undefined;
  const lo = xs ? Math.min(...xs) : 0;
  const hi = xs ? Math.max(...xs) : 0;
  const xAt = (i: number) => (xs && hi > lo ? M.left + band / 2 + ((pw - band) * (xs[i]! - lo)) / (hi - lo) : M.left + band * (i + 0.5));
  const axisMax = (axis: 'left' | 'right') => {
    const vals = spec.series.filter((s) => s.axis === axis).flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const refs = (spec.refLines ?? []).filter((r) => r.axis === axis).map((r) => r.value);
    return niceScale(Math.max(0, ...vals, ...refs));
  };
  const left = axisMax('left');
  const right = axisMax('right');
  const yAt = (axis: 'left' | 'right', v: number) => {
    const s = axis === 'left' ? left : right;
    return M.top + ph - (v / s.top) * ph;
  };
  const parts: string[] = [];
  const titleId = `${spec.id}-title`;
  parts.push(
    `<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" ` +
      `aria-labelledby="${titleId}" data-chart="${esc(spec.id)}">`,
  );
  parts.push(`<title id="${titleId}">${esc(spec.title)}</title>`);
  // grid and left ticks
  const leftFmt = spec.series.find((s) => s.axis === 'left')?.format ?? countTick;
  const rightFmt = spec.series.find((s) => s.axis === 'right')?.format ?? pctTick;
  for (let v = 0; v <= left.top + 1e-12; v += left.step) {
    const y = yAt('left', v);
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${fixed(y, 1)}" y2="${fixed(y, 1)}"/>`);
    parts.push(`<text class="tick" x="${M.left - 6}" y="${fixed(y + 4, 1)}" text-anchor="end">${esc(leftFmt(v))}</text>`);
  }
  const hasRight = spec.series.some((s) => s.axis === 'right');
  if (hasRight) {
    for (let v = 0; v <= right.top + 1e-12; v += right.step) {
      const y = yAt('right', v);
      parts.push(`<text class="tick" x="${W - M.right + 6}" y="${fixed(y + 4, 1)}" text-anchor="start">${esc(rightFmt(v))}</text>`);
    }
  }
  if (spec.markIndex !== undefined && spec.markIndex >= 0) {
    const x = xAt(spec.markIndex);
    parts.push(`<rect class="mark" x="${fixed(x - band / 2, 1)}" y="${M.top}" width="${fixed(band, 1)}" height="${ph}"/>`);
    parts.push(`<text class="mark-label" x="${fixed(x, 1)}" y="${M.top + 12}" text-anchor="middle">current</text>`);
  }
  if (spec.splitIndex !== undefined && spec.splitIndex > 0 && spec.splitIndex < spec.categories.length) {
    const x = M.left + band * spec.splitIndex;
    parts.push(`<line class="split" x1="${fixed(x, 1)}" x2="${fixed(x, 1)}" y1="${M.top}" y2="${M.top + ph}"/>`);
    parts.push(`<text class="mark-label" x="${fixed(x + 4, 1)}" y="${M.top + 12}" text-anchor="start">test →</text>`);
  }
  // bars first, so lines stay visible on top
  const bars = spec.series.filter((s) => s.kind === 'bar');
  bars.forEach((s, bi) => {
    const bw = (band * 0.7) / bars.length;
    s.values.forEach((v, i) => {
      if (v === null) return;
      const y = yAt(s.axis, v);
      const x = xAt(i) - (band * 0.7) / 2 + bi * bw;
      parts.push(
        `<rect class="${s.cls}" x="${fixed(x, 1)}" y="${fixed(y, 1)}" width="${fixed(Math.max(1, bw), 1)}" ` +
          `height="${fixed(Math.max(0, M.top + ph - y), 1)}"><title>${esc(`${spec.categories[i] ?? ''}: ${s.format(v)} ${s.name}`)}</title></rect>`,
      );
    });
  });
  for (const r of spec.refLines ?? []) {
    const y = yAt(r.axis, r.value);
    parts.push(`<line class="ref" x1="${M.left}" x2="${W - M.right}" y1="${fixed(y, 1)}" y2="${fixed(y, 1)}"/>`);
    parts.push(`<text class="ref-label" x="${W - M.right - 4}" y="${fixed(y - 4, 1)}" text-anchor="end">${esc(r.label)}</text>`);
  }
  for (const s of spec.series.filter((x) => x.kind === 'line')) {
    // a null (n/a) value breaks the line rather than pretending it is zero
    const segs: string[][] = [[]];
    s.values.forEach((v, i) => {
      if (v === null) segs.push([]);
      else segs[segs.length - 1]!.push(`${fixed(xAt(i), 1)},${fixed(yAt(s.axis, v), 1)}`);
    });
    for (const seg of segs) if (seg.length > 1) parts.push(`<polyline class="${s.cls}" fill="none" points="${seg.join(' ')}"/>`);
    s.values.forEach((v, i) => {
      if (v !== null)
        parts.push(
          `<circle class="${s.cls}-dot" cx="${fixed(xAt(i), 1)}" cy="${fixed(yAt(s.axis, v), 1)}" ` +
            `r="3"><title>${esc(`${spec.categories[i] ?? ''}: ${s.format(v)} ${s.name}`)}</title></circle>`,
        );
    });
  }
  // axes
  parts.push(`<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}"/>`);
  parts.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/>`);
  if (hasRight) parts.push(`<line class="axis" x1="${W - M.right}" x2="${W - M.right}" y1="${M.top}" y2="${M.top + ph}"/>`);
  // category labels: at most ~12, so they never overlap
  const every = Math.max(1, Math.ceil(spec.categories.length / 12));
  let lastX = -Infinity;
  spec.categories.forEach((c, i) => {
    if (i % every !== 0 && i !== spec.categories.length - 1) return;
    // on a numeric axis points can crowd: a label too close to the previous one is left to the table
    if (xs && xAt(i) - lastX < 40) return;
    lastX = xAt(i);
    // long numbers (quantile thresholds) are shortened on the axis; the data table keeps them whole
    const short = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(c) ? String(Number(Number(c).toPrecision(4))) : c;
    parts.push(`<text class="tick" x="${fixed(xAt(i), 1)}" y="${M.top + ph + 16}" text-anchor="middle">${esc(short)}</text>`);
  });
  parts.push(`<text class="axis-label" x="${M.left + pw / 2}" y="${H - 26}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  parts.push(`<text class="axis-label" transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  if (hasRight && spec.y2Label)
    parts.push(`<text class="axis-label" transform="translate(${W - 12} ${M.top + ph / 2}) rotate(90)" text-anchor="middle">${esc(spec.y2Label)}</text>`);
  // legend
  let lx = M.left;
  for (const s of spec.series) {
    parts.push(
      s.kind === 'bar'
        ? `<rect class="${s.cls}" x="${lx}" y="${H - 14}" width="12" height="10"/>`
        : `<line class="${s.cls}" x1="${lx}" x2="${lx + 14}" y1="${H - 9}" y2="${H - 9}"/>`,
    );
    parts.push(`<text class="legend" x="${lx + 18}" y="${H - 5}">${esc(s.name)}</text>`);
    lx += 36 + 7 * s.name.length;
  }
  for (const r of spec.refLines ?? []) {
    parts.push(`<line class="ref" x1="${lx}" x2="${lx + 14}" y1="${H - 9}" y2="${H - 9}"/>`);
    parts.push(`<text class="legend" x="${lx + 18}" y="${H - 5}">${esc(r.label)}</text>`);
    lx += 36 + 7 * r.label.length;
  }
  parts.push('</svg>');
  const head = [spec.tableHeader ?? spec.xLabel, ...spec.series.map((s) => s.name)];
  const rows = spec.categories.map((c, i) => [c + (i === spec.markIndex ? ' (current)' : ''), ...spec.series.map((s) => s.format(s.values[i] ?? null))]);
  return { id: spec.id, title: spec.title, svg: parts.join(''), table: { head, rows } };
}

/** A square heat map of values in [0, 1] (Jaccard similarity), labelled R1..Rn. */
export function heatMap(spec: {
  id: string;
  title: string;
  labels: readonly string[];
  names: readonly string[];
  values: readonly (readonly number[])[];
  axisLabel: string;
}): Chart {
  const n = spec.labels.length;
  const cell = Math.max(28, Math.min(56, Math.floor(440 / Math.max(1, n))));
  const left = 64;
  const top = 24;
  const w = left + cell * n + 150;
  const h = top + cell * n + 56;
  const titleId = `${spec.id}-title`;
  const parts: string[] = [
    `<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" style="max-width:${w}px" ` +
      `role="img" aria-labelledby="${titleId}" data-chart="${esc(spec.id)}">`,
    `<title id="${titleId}">${esc(spec.title)}</title>`,
  ];
  // white -> deep blue; the text flips to white on dark cells
  const shade = (v: number) => {
    const t = Math.max(0, Math.min(1, v));
    const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
    return `rgb(${mix(247, 19)},${mix(251, 62)},${mix(255, 125)})`;
  };
  for (let i = 0; i < n; i++) {
    parts.push(`<text class="tick" x="${left - 6}" y="${top + cell * i + cell / 2 + 4}" text-anchor="end">${esc(spec.labels[i]!)}</text>`);
    parts.push(`<text class="tick" x="${left + cell * i + cell / 2}" y="${top + cell * n + 16}" text-anchor="middle">${esc(spec.labels[i]!)}</text>`);
    for (let j = 0; j < n; j++) {
      const v = spec.values[i]?.[j] ?? 0;
      const x = left + cell * j;
      const y = top + cell * i;
      parts.push(
        `<rect class="cell" x="${x}" y="${y}" width="${cell}" height="${cell}" ` +
          `fill="${shade(v)}"><title>${esc(`${spec.labels[i]} × ${spec.labels[j]}: Jaccard ${fixed(v, 2)}`)}</title></rect>`,
      );
      if (cell >= 28)
        parts.push(
          `<text class="cell-text${v > 0.5 ? ' dark' : ''}" x="${x + cell / 2}" y="${y + cell / 2 + 4}" ` +
            `text-anchor="middle">${i === j ? '—' : fixed(v, 2)}</text>`,
        );
    }
  }
  parts.push(`<text class="axis-label" x="${left + (cell * n) / 2}" y="${top + cell * n + 40}" text-anchor="middle">${esc(spec.axisLabel)}</text>`);
  parts.push(`<text class="axis-label" transform="translate(14 ${top + (cell * n) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.axisLabel)}</text>`);
  // colour scale
  const sx = left + cell * n + 24;
  for (let k = 0; k <= 10; k++) parts.push(`<rect x="${sx}" y="${top + (10 - k) * 12}" width="16" height="12" fill="${shade(k / 10)}"/>`);
  parts.push(`<text class="tick" x="${sx + 22}" y="${top + 10}">1.0</text><text class="tick" x="${sx + 22}" y="${top + 130}">0.0</text>`);
  parts.push(`<text class="legend" x="${sx}" y="${top + 152}">Jaccard of hit sets</text>`);
  parts.push('</svg>');
  const head = ['rule', ...spec.labels];
  const rows = spec.labels.map((l, i) => [
    `${l} ${spec.names[i] ?? ''}`.trim(),
    ...spec.labels.map((_, j) => (i === j ? '—' : fixed(spec.values[i]?.[j] ?? 0, 3))),
  ]);
  return { id: spec.id, title: spec.title, svg: parts.join(''), table: { head, rows } };
}
