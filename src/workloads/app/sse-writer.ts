/**
 * Writes chat events as SSE, coalescing whatever is ready into one write. A fast back-end (the offline
 * answerer) produces dozens of events per microtask burst; one socket write per event cost ~1 ms each under
 * load. A slow back-end still gets one write per token, because the queue is empty between tokens.
 */
import type { ChatEvent } from "../llm/pipeline.js";

export function formatSse(event: ChatEvent): string {
  const { type, ...data } = event;
  // JSON.stringify never emits a raw newline, so one data line is enough.
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function pipeEvents(
  events: AsyncIterable<ChatEvent>,
  write: (chunk: string) => Promise<unknown>,
  signal: AbortSignal,
  onEvent: (event: ChatEvent) => void = () => {},
): Promise<void> {
  const queue: string[] = [];
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const producer = (async () => {
    try {
      for await (const event of events) {
        if (signal.aborted) break;
        onEvent(event);
        queue.push(formatSse(event));
        wake?.();
      }
    } catch (error) {
      failure = error;
    } finally {
      finished = true;
      wake?.();
    }
  })();
  while (!signal.aborted) {
    if (queue.length === 0) {
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
      continue;
    }
    await write(queue.splice(0).join(""));
  }
  await producer;
  if (failure !== undefined) throw failure;
}
