import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/workloads/rag/analyze.js";
import { analyzeCached, createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";

// Pinned from the original Map-based implementation: a faster hash embedder must produce the same bits, or every
// stored `hash-v1-*` index would silently disagree with its queries.
const TEXTS = [
  "caching function results",
  "Python 3.11 › functools › lru_cache\n\nDecorator to wrap a function with a memoizing callable that saves up to the maxsize most recent calls.",
  "getLogger(__name__) returns HTTPServer; Café naïve ﬁne “quotes” 3.11.2 α-β",
  "",
  "the a of", // only stop words: the zero vector
  Array.from({ length: 300 }, (_, i) => `token${i % 37} word_${i % 11} Mixed${i}Case`).join(" "),
];

const GOLDEN: Record<string, string[]> = {
  "512": [
    "fb7ddc70d7e9e2055787498ea984977abba1a6ab77ebe899e65af5d76ff04cc8",
    "1d92ee96485daff872366beedf252185eb334f9a35a17e6d9cfa17f9d388b3de",
    "47f014cd08a738924674e315e984e2036708f2187354825686087cc4b753fc37",
    "e5a00aa9991ac8a5ee3109844d84a55583bd20572ad3ffcd42792f3c36b183ad",
    "e5a00aa9991ac8a5ee3109844d84a55583bd20572ad3ffcd42792f3c36b183ad",
    "0caff26e0d8694fc0c9ffa9431ada702a3eb9735d3b74871445c61d2f57dd45b",
  ],
  "300": [
    "494fd4de33104de67cac7fc5a89508f33d428ef3a6a2f095aa347a1c87668f18",
    "559f07a0b734850aaa143e23cca740222b68dd933bd373adabb0b18800ca417f",
    "257c3c45b77e538949514aac751b7477379a983eb69065d257a62f4fd89a1b00",
    "655a3ef0465a9f30fddf25f4dde0c19a05c6f9069b83961800c1944165955273",
    "655a3ef0465a9f30fddf25f4dde0c19a05c6f9069b83961800c1944165955273",
    "73fa4e43e93b55d5b0d50e91de33924d9ff9fbad12ba71a1be0a98205c9b5af3",
  ],
};

function digest(vector: Float32Array): string {
  return createHash("sha256")
    .update(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength))
    .digest("hex");
}

describe("hash embedder golden vectors", () => {
  for (const dim of [512, 300]) {
    it(`reproduces the pinned bits at dim ${dim}`, async () => {
      const embedder = createHashEmbedder({ dim });
      const vectors = await embedder.embedDocuments(TEXTS);
      const digests = vectors.map(digest);
      expect(digests).toEqual(GOLDEN[String(dim)]);
      expect(digest(await embedder.embedQuery(TEXTS[1] ?? ""))).toBe(digests[1]);
    });
  }
});

describe("analyzeCached", () => {
  it("gives analyze's terms for real documentation text", () => {
    const text = readFileSync(
      join(import.meta.dirname, "..", "..", "samples", "python-docs", "tutorial", "classes.html"),
      "utf8",
    )
      .replace(/<[^>]+>/g, " ")
      .replace(/&[a-z]+;/g, " ");
    expect(text.length).toBeGreaterThan(10_000);
    for (let at = 0; at < text.length; at += 2_000) {
      const slice = `${text.slice(at, at + 2_000)} ${TEXTS.join(" ")}`;
      expect(analyzeCached(slice)).toEqual(analyze(slice));
    }
  });
});
