import type { Register } from './index.js';
import { initWorkspace } from '../../init.js';

export const register: Register = (program, { io, globals }) => {
  program
    .command('init [dir]')
    .description('create a workspace: rulegen.yaml, features.yaml, candidates/, rules/, docs/')
    .action(async (dir: string | undefined) => {
      const g = globals();
      const target = dir ?? g.workspace;
      const written = initWorkspace(target, { cwd: io.cwd });
      if (g.json) io.stdout(JSON.stringify({ dir: written.dir, files: written.files }) + '\n');
      else io.stdout(`initialised ${written.dir}\n${written.files.map((f: string) => `  ${f}`).join('\n')}\n`);
    });
};
