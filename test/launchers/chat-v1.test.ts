import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findFreePort } from "../../src/shared/ports.js";

// The lab's first chat app, as CML starts it: python3 runs the launcher, which runs `cml-lab app`.
const root = join(import.meta.dirname, "../..");
let child: ChildProcess | undefined;

afterAll(() => {
  // The launcher runs node as its child: end the whole process group this test started.
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
});

interface Choice {
  id: string;
  available: boolean;
  detail: string;
}

describe("launchers/chat_v1.py (exercise 4)", () => {
  it("offers Chroma, Pinecone or no retrieval, with the store that is not configured disabled and why", async () => {
    const port = await findFreePort();
    child = spawn("python3", [join(root, "launchers/chat_v1.py")], {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        CML_LAB_PROJECT_DIR: root,
        CDSW_APP_PORT: String(port),
        CML_LAB_DATA: mkdtempSync(join(tmpdir(), "chat-v1-")),
        // As the lab manifest sets it: the vectordb application's URL (not contacted to list the choices).
        CML_LAB_CHROMA_URL: "http://127.0.0.1:9",
      },
    });
    let log = "";
    child.stdout?.on("data", (data) => (log += data));
    child.stderr?.on("data", (data) => (log += data));
    let config: { stores: Choice[]; models: Choice[] } | undefined;
    await expect
      .poll(
        async () => {
          if (child?.exitCode !== null) throw new Error(`the app exited ${child?.exitCode}: ${log}`);
          config = await fetch(`http://127.0.0.1:${port}/api/config`)
            .then((response) => response.json() as Promise<{ stores: Choice[]; models: Choice[] }>)
            .catch(() => undefined);
          return config !== undefined;
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe(true);
    const stores = new Map(config?.stores.map((store) => [store.id, store]));
    expect([...stores.keys()].sort()).toEqual(["chroma", "none", "pinecone"]);
    expect(stores.get("chroma")?.available).toBe(true);
    expect(stores.get("none")?.available).toBe(true);
    expect(stores.get("pinecone")).toMatchObject({ available: false, detail: "set PINECONE_API_KEY" });
    expect(config?.models.map((model) => model.id).sort()).toEqual(["bedrock", "offline"]);
  }, 60_000);
});
