/**
 * Reads Server-Sent Events (`data:` lines, blank-line separated) from a fetch body. Each read races the
 * signal: a body that stalls without honouring the abort (proxies, mocked bodies) must not hold us open.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onBytes: () => void = () => {},
): AsyncIterable<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  try {
    while (true) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      onBytes();
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.search(/\r?\n/);
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(buffer[newline] === "\r" ? newline + 2 : newline + 1);
        if (line === "") {
          if (data.length > 0) yield { event, data: data.join("\n") };
          event = "message";
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        } else if (line.startsWith("event:")) {
          event = line.slice(6).trim();
        }
        newline = buffer.search(/\r?\n/);
      }
    }
    if (data.length > 0) yield { event, data: data.join("\n") };
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    void reader.cancel().catch(() => {});
  }
}
