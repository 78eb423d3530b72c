import { resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { RecordingProvider, ReplayProvider, shippedCassettes } from '../../llm/replay.js';
import type { LlmProvider, ModelProviderName } from '../../llm/types.js';
import type { Workspace } from '../../workspace.js';

/** The provider for a run, from the config: bedrock (optionally recording) or replay. */
export async function makeProvider(ws: Workspace, name: ModelProviderName, opts: { record?: boolean } = {}): Promise<LlmProvider> {
  const configured = ws.config.llm.cassettes ? resolve(ws.dir, ws.config.llm.cassettes) : undefined;
  const dirs = [...(configured ? [configured] : []), shippedCassettes()];
  if (name === 'replay') {
    if (opts.record)
      throw InputError.single({ message: '--record needs a live provider', where: { field: '--record' }, expected: '--provider bedrock', found: 'replay' });
    return new ReplayProvider(dirs);
  }
  // Loaded on demand: the AWS SDK costs every other command ~0.2 s of start-up otherwise.
  const { BedrockProvider, bedrockOptions } = await import('../../llm/bedrock.js');
  const live = new BedrockProvider(bedrockOptions(ws.config.llm));
  return opts.record ? new RecordingProvider(live, dirs[0]!) : live;
}
