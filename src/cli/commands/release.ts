import { resolve } from 'node:path';
import type { Register } from './index.js';
import { runRelease } from '../../release/release.js';
import { withWorkspaceStore } from './with-store.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('release')
    .description(
      'versioned ruleset bundle of the approved rules (JSON, sha256, JSON Schema) and CHANGELOG.md against the previous release; refused when ' +
        'check fails (exit 1)',
    )
    // `--version` is the program's own flag (commander reads it after the subcommand too), so
    // the release version is a positional argument.
    .argument('[version]', 'release version (default: the previous one with its minor part + 1, or 1.0.0)')
    .option('--out <dir>', 'folder of releases (default: releases/ in the workspace); this one goes to <dir>/<version>/')
    .action(async (version: string | undefined, opts: { out?: string }) => {
      const g = globals();
      await withWorkspaceStore(io, g, async (ws, store, bar) => {
        const r = await runRelease(ws, store, { version, out: opts.out ? resolve(io.cwd, opts.out) : undefined, onStep: bar.step }, io.env);
        bar.done();
        const b = r.bundle;
        if (g.json) {
          io.stdout(
            JSON.stringify(
              {
                version: b.version,
                sha256: b.sha256,
                previous: b.previous,
                dir: r.dir,
                files: r.files,
                rules: b.rules.map((x) => ({ id: x.id, version: x.version, action: x.action, stage: x.stage })),
              },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        io.stdout(`release ${b.version}: ${b.rules.length} rule${b.rules.length === 1 ? '' : 's'}, sha256 ${b.sha256}\n`);
        io.stdout(`previous: ${r.previous ? r.previous.version : 'none'}\n`);
        for (const f of r.files) io.stdout(`wrote ${f}\n`);
      });
    });
};
