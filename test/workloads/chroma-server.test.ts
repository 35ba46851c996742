import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { describe, expect, it } from "vitest";
import { startChromaServer } from "../../src/workloads/chroma/server.js";

// The lab's vector database is the real Chroma server; data written through one server survives a restart.
describe("startChromaServer", () => {
  it("serves a directory, persists across restarts and frees its port on close", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "chroma-")), "db");
    const first = await startChromaServer({ path });
    const client = new ChromaClient({ host: "127.0.0.1", port: first.port });
    const collection = await client.createCollection({ name: "pages", embeddingFunction: null });
    await collection.add({ ids: ["a"], embeddings: [[1, 0, 0]], documents: ["alpha"] });
    await first.close();
    await expect(fetch(`${first.url}/api/v2/heartbeat`)).rejects.toThrow();

    const second = await startChromaServer({ path });
    try {
      const again = new ChromaClient({ host: "127.0.0.1", port: second.port });
      const pages = await again.getCollection({ name: "pages" });
      const got = await pages.get({ ids: ["a"] });
      expect(got.documents).toEqual(["alpha"]);
    } finally {
      await second.close();
    }
  }, 60_000);
});
