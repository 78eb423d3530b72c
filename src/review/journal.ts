/**
 * All-or-nothing changes to rule files and docs, surviving kill -9.
 *
 * A decision (approve, reject, deprecate) touches several files: new approved rules, removed
 * candidates, rewritten rule files, docs pages. Each file write is atomic, but the batch is not:
 * a crash between two of them used to leave a rule in both candidates/ and rules/. So the batch
 * is written first, whole, as a journal (`.rulegen/journal.json`: temp file, fsync, link), then
 * applied, then removed. Every step is idempotent (a write is "make the file have this text", a
 * remove is "make it absent"), so the next command that opens the workspace can replay an
 * unfinished journal to completion. A journal that was never fully written does not exist under
 * its name (only its temp file does), and nothing has been applied: that batch is rolled back
 * by removing the temp file.
 *
 * While it exists, the journal is also the lock: a second writer cannot create it (link fails).
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { ExternalError, InputError } from '../errors.js';
import { fsyncDir, linkStep, mkdirStep, pidAlive, removeQuietly, removeStep, tempFileOwner, tempPathFor, writeFileAtomic, writeFileStep } from '../fsutil.js';
import { parse as parseYaml } from 'yaml';
import { loadRuleFile, ruleFilesIn } from '../rules/load.js';
import type { Workspace } from '../workspace.js';
import { writeNewFileAtomic } from './files.js';

const OpSchema = z.discriminatedUnion('op', [
  /** Make `path` hold `text`. `create`: the file must not exist when the batch starts (an approved rule). */
  z.strictObject({ op: z.literal('write'), path: z.string(), text: z.string(), create: z.boolean().optional() }),
  z.strictObject({ op: z.literal('remove'), path: z.string() }),
]);
export type JournalOp = z.infer<typeof OpSchema>;

const JournalSchema = z.strictObject({
  version: z.literal(1),
  command: z.string(),
  pid: z.number().int(),
  started: z.string(),
  ops: z.array(OpSchema),
});
/** A planned batch of file changes; applying it twice gives the same files as applying it once. */
export type Journal = z.infer<typeof JournalSchema>;

export function journalPath(ws: Pick<Workspace, 'dir'>): string {
  return join(ws.dir, '.rulegen', 'journal.json');
}

export function newJournal(command: string, ops: readonly JournalOp[], now = new Date()): Journal {
  return { version: 1, command, pid: process.pid, started: now.toISOString(), ops: [...ops] };
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** Apply one op so that its effect holds; a no-op if it already does (replay after a crash). */
function applyOp(op: JournalOp, firstRun: boolean): void {
  if (op.op === 'remove') {
    if (existsSync(op.path)) removeStep(op.path);
    return;
  }
  if (readText(op.path) === op.text) return;
  // First run: link(2) refuses an existing approved rule even against a racing writer.
  if (op.create && firstRun) writeNewFileAtomic(op.path, op.text, { durable: true });
  else writeFileAtomic(op.path, op.text, { durable: true });
}

/** Write the journal whole (temp, fsync, link: never half a journal under its name), failing if one exists. */
function publish(path: string, j: Journal): void {
  const tmp = tempPathFor(path);
  try {
    mkdirStep(dirname(path));
    writeFileStep(tmp, JSON.stringify(j) + '\n', { exclusive: true, durable: true });
    linkStep(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const other = readJournal(path);
      throw InputError.single({
        message:
          `another rulegen command is changing the rules right ` +
          `now${other.ok ? ` (${other.journal.command}, pid ${other.journal.pid}, started ${other.journal.started})` : ''}; nothing was written`,
        where: { file: path },
        expected: 'no unfinished change in the workspace',
        found: 'a journal of changes being applied',
        excerpt: 'retry when it has finished; if no rulegen process is running, the next command completes it',
      });
    }
    throw new ExternalError(`cannot write the change journal ${path}: ${(e as Error).message}; nothing was written`);
  }
  removeQuietly(tmp);
  fsyncDir(dirname(path));
}

/**
 * Run a batch: publish the journal, check that no `create` target exists (the journal is the
 * lock, so this check cannot race another rulegen), apply every op, remove the journal. If this
 * throws after the journal is published, the journal stays and the next command completes it.
 */
export function runJournal(ws: Pick<Workspace, 'dir'>, j: Journal): void {
  const path = journalPath(ws);
  publish(path, j);
  const clash = j.ops.find((o) => o.op === 'write' && o.create && existsSync(o.path));
  if (clash) {
    removeQuietly(path);
    throw InputError.single({
      message: 'refusing to overwrite an existing rule file; nothing was written',
      where: { file: clash.path },
      expected: 'a new file (an approved rule is never overwritten)',
      found: 'the file exists',
    });
  }
  for (const op of j.ops) applyOp(op, true);
  removeStep(path);
  fsyncDir(dirname(path));
}

function readJournal(path: string): { ok: true; journal: Journal } | { ok: false; error: string } {
  const text = readText(path);
  if (text === null) return { ok: false, error: 'unreadable' };
  try {
    const p = JournalSchema.safeParse(JSON.parse(text));
    return p.success ? { ok: true, journal: p.data } : { ok: false, error: p.error.issues[0]?.message ?? 'invalid' };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** What recovery did, in words for stderr; `docsStale` when rule files changed without their docs. */
export interface Recovery {
  notes: string[];
  docsStale: boolean;
}

/**
 * Bring a workspace back to a consistent state after a crash; cheap when there is nothing to do.
 * Called by every command that opens a workspace (the CLI's preAction hook) and at the start of
 * approve, reject, deprecate and docs.
 * 1. an unfinished journal is replayed to completion (unless its writer is still running);
 * 2. leftover temp files of dead processes are removed (a journal's temp file: that batch never
 *    started, so removing it is the rollback);
 * 3. a rule left in both candidates/ and rules/ (by a crash of an older rulegen) is repaired:
 *    the approved copy wins if it is a valid approved rule with the same condition.
 */
export function recoverWorkspace(ws: Workspace): Recovery {
  const notes: string[] = [];
  let docsStale = false;
  const path = journalPath(ws);
  if (existsSync(path)) {
    const r = readJournal(path);
    if (!r.ok) {
      // Cannot happen through publish (it links a complete, fsynced file); keep it for a human.
      const aside = `${path}.invalid-${Date.now()}`;
      linkStep(path, aside);
      removeStep(path);
      notes.push(`the change journal ${path} is not valid (${r.error}); moved it to ${aside}, and repaired what can be seen from the rule files`);
      docsStale = true;
    } else if (r.journal.pid !== process.pid && pidAlive(r.journal.pid)) {
      notes.push(`an unfinished ${r.journal.command} by pid ${r.journal.pid} is still applying its changes; not touching them`);
      return { notes, docsStale };
    } else {
      for (const op of r.journal.ops) applyOp(op, false);
      removeStep(path);
      fsyncDir(dirname(path));
      notes.push(
        `completed an interrupted ${r.journal.command} (started ${r.journal.started}, pid ${r.journal.pid}): ${r.journal.ops.length} file ` +
          `change${r.journal.ops.length === 1 ? '' : 's'} applied or confirmed, docs included`,
      );
    }
  }
  const removed = removeDeadTempFiles([dirname(path), ws.paths.rules, ws.paths.candidates, ws.paths.docs, join(ws.paths.docs, 'rules')]);
  if (removed.length)
    notes.push(
      `removed ${removed.length} leftover temp file${removed.length === 1 ? '' : 's'} of an interrupted ` +
        `write: ${removed.map((f) => relative(ws.dir, f) || f).join(', ')}`,
    );
  const repaired = repairDuplicates(ws);
  if (repaired.length) {
    notes.push(...repaired);
    docsStale = true;
  }
  return { notes, docsStale };
}

/** Temp files (tempPathFor names) whose writer is gone; a live writer's are left alone. */
function removeDeadTempFiles(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of new Set(dirs)) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const pid = tempFileOwner(name);
      if (pid === null || (pid !== process.pid && pidAlive(pid))) continue;
      const p = join(dir, name);
      if (!lstatSync(p).isFile()) continue;
      removeStep(p);
      out.push(p);
    }
  }
  return out;
}

/** The few fields a leftover is recognised by, read with a plain YAML parse (this runs before every command). */
interface Light {
  file: string;
  id?: string;
  status?: string;
  condition?: string;
  derivedFrom: string[];
}

function light(file: string): Light {
  try {
    const y = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const related = Array.isArray(y?.['related']) ? (y['related'] as Record<string, unknown>[]) : [];
    return {
      file,
      id: str(y?.['id']),
      status: str(y?.['status']),
      condition: str(y?.['condition'])?.trim(),
      derivedFrom: related.filter((r) => r?.['type'] === 'derived').map((r) => String(r['id'])),
    };
  } catch {
    return { file, derivedFrom: [] };
  }
}

/**
 * A candidate whose approval was half done: rules/ holds a valid approved rule with its id (or
 * derived from its id) and the same condition. The approved copy wins; the candidate goes.
 * A candidate with an approved rule's id but another condition is a proposed change, not a leftover.
 */
function repairDuplicates(ws: Workspace): string[] {
  // Cheap test first: a leftover's approved copy names the candidate's id (its file stem, as
  // propose and approve name files) as its own id or in a derived relation.
  const candFiles = ruleFilesIn(ws.paths.candidates);
  if (candFiles.length === 0) return [];
  const stems = candFiles.map((f) => basename(f).replace(/\.ya?ml$/i, ''));
  const ruleFiles = ruleFilesIn(ws.paths.rules).filter((f) => {
    const text = readText(f) ?? '';
    return stems.some((st) => text.includes(st));
  });
  if (ruleFiles.length === 0) return [];
  const cands = candFiles.map(light).filter((c) => c.status === 'candidate' && c.id && c.condition);
  const rules = ruleFiles.map(light);
  const notes: string[] = [];
  for (const c of cands) {
    const twins = rules.filter((a) => a.condition === c.condition && (a.id === c.id || a.derivedFrom.includes(c.id!)));
    if (twins.length === 0) continue;
    // only a copy that lint accepts as an approved rule may win
    const winner = twins.find((a) => a.status === 'approved' && loadRuleFile(a.file, ws.catalog).rule?.status === 'approved');
    if (winner) {
      removeStep(c.file);
      notes.push(
        `rule ${c.id} was in both ${relative(ws.dir, c.file)} and ${relative(ws.dir, winner.file)} (an interrupted approve): kept the approved ` +
          `rule, removed the candidate`,
      );
    } else
      notes.push(
        `rule ${c.id} is in both ${relative(ws.dir, c.file)} and ${relative(ws.dir, twins[0]!.file)}, and the copy in rules/ is not a valid ` +
          `approved rule: left both for you to resolve`,
      );
  }
  return notes;
}
