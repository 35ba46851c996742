/** A test client for the chat app's SSE endpoint: posts a body, returns the parsed events in order. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
  /** ms since the request started. */
  at: number;
}

export async function postChat(
  baseUrl: string,
  body: unknown,
  options: { signal?: AbortSignal; onEvent?: (e: SseEvent) => void; headers?: Record<string, string> } = {},
): Promise<{ status: number; events: SseEvent[]; json?: Record<string, unknown>; headers: Headers }> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    return { status: response.status, events: [], json: await response.json(), headers: response.headers };
  }
  const events: SseEvent[] = [];
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  if (reader) {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      buffer += next.value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n");
        const parsed = { event, data: JSON.parse(data), at: performance.now() - started };
        events.push(parsed);
        options.onEvent?.(parsed);
        end = buffer.indexOf("\n\n");
      }
    }
  }
  return { status: response.status, events, headers: response.headers };
}

export const validBody = {
  question: "How do for loops iterate?",
  model: "offline",
  store: "local",
  temperature: 0.2,
  maxTokens: 256,
};
