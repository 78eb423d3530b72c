/**
 * Notes for the person running a command ("label corrections applied: ..."), raised deep in the
 * core where no terminal is known. The CLI installs the sink (stderr, silent with --quiet); a
 * library caller that installs none hears nothing.
 */
export type NoteSink = (message: string) => void;

let sink: NoteSink | null = null;

/** Install (or with null remove) the sink; returns the previous one. */
export function setNoteSink(s: NoteSink | null): NoteSink | null {
  const prev = sink;
  sink = s;
  return prev;
}

export function note(message: string): void {
  sink?.(message);
}
