import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../src/catalog/load.js';
import { InputError } from '../../src/errors.js';

function problems(text: string) {
  try {
    parseCatalog(text, 'features.yaml');
  } catch (e) {
    return (e as InputError).problems;
  }
  throw new Error('expected an error');
}

describe('catalog loader', () => {
  it('loads a valid catalog with lookups', () => {
    const c = parseCatalog('- name: rpm\n  type: number\n  description: requests per minute\n', 'f.yaml');
    expect(c.get('rpm')?.type).toBe('number');
    expect(c.get('rpm')?.sensitive).toBe(false);
    expect(c.get('nope')).toBeUndefined();
  });

  it('reports bad names, bad types, duplicates and ranges all at once, with lines', () => {
    const text = [
      '- name: Bad-Name', //1
      '  type: number',
      '  description: x',
      '- name: ok',
      '  type: float', //5
      '  description: y',
      '- name: dup',
      '  type: number',
      '  description: a',
      '- name: dup', //10
      '  type: number',
      '  description: b',
      '  range: [5, 1]', //13
    ].join('\n');
    let ps = problems(text);
    // zod problems come first; the checks run on a schema-valid catalog
    expect(ps.map((p) => p.where?.line)).toEqual([1, 5]);
    expect(ps[0]!.message).toMatch(/\^\[a-z\]/);
    ps = problems(text.replace('Bad-Name', 'good').replace('float', 'number'));
    expect(ps.map((p) => [p.where?.line, p.message.slice(0, 20)])).toEqual([
      [10, 'feature "dup" is dec'],
      [13, 'range of "dup" is em'],
    ]);
  });

  it('rejects an empty catalog', () => {
    expect(problems('[]')[0]!.message).toMatch(/no features/);
  });
});
