import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { configTemplate } from '../../src/config/template.js';
import { InputError } from '../../src/errors.js';

describe('config loader', () => {
  it('an empty file is all defaults', () => {
    expect(parseConfig('', 'rulegen.yaml')).toEqual(DEFAULT_CONFIG);
  });

  it('the template init writes parses to exactly the defaults', () => {
    expect(parseConfig(configTemplate(), 'rulegen.yaml')).toEqual(DEFAULT_CONFIG);
  });

  it('reports every problem at once with file:line:column', () => {
    const text = ['data:', '  table: sessions', '  segments: [country, 3]', 'gate:', '  max_fpr: 2', '  min_support: many', 'surprise: true', ''].join('\n');
    let err: InputError | undefined;
    try {
      parseConfig(text, 'ws/rulegen.yaml');
    } catch (e) {
      err = e as InputError;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(err!.exitCode).toBe(2);
    const where = err!.problems.map((p) => `${p.where?.line}:${p.where?.field}`);
    expect(where).toEqual(expect.arrayContaining(['3:data.segments.1', '5:gate.max_fpr', '6:gate.min_support']));
    expect(err!.problems.some((p) => /surprise/.test(p.message) && p.where?.line === 7)).toBe(true);
    expect(err!.describe()).toContain('ws/rulegen.yaml:5:');
  });

  it('rejects invalid YAML with the position', () => {
    try {
      parseConfig('data:\n  table: [unclosed\n', 'c.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).problems[0]!.where?.line).toBeGreaterThan(0);
    }
  });

  it('checks cross-field rules', () => {
    expect(() => parseConfig('data:\n  id: ts\n', 'c.yaml')).toThrow(/three different columns/);
    expect(() => parseConfig('split:\n  test_from: not-a-date\n', 'c.yaml')).toThrow(/not a date/);
  });
});
