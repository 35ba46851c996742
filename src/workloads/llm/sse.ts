/**
 * Reads Server-Sent Events (`data:` lines, blank-line separated) from a fetch body. Each read races the
 * signal: a body that stalls without honouring the abort (proxies, mocked bodies) must not hold us open.
 */
import { abortable } from "./deadline.js";

export async function* readSse(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onBytes: () => void = () => {},
): AsyncIterable<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  const chunks = async function* () {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  };
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  try {
    for await (const value of abortable(chunks(), signal)) {
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
    // A stalled body never settles the pending read on its own: cancelling it does, and frees the connection.
    void reader.cancel().catch(() => {});
  }
}
