import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations; its exports are checked by the rag tests.
import { MODEL_DIR } from "../../scripts/gen-tiny-onnx-model.mjs";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { createLocalOnnxEmbedder } from "../../src/workloads/rag/embedders/local-onnx.js";
import { openRetriever } from "../../src/workloads/rag/index.js";

function bufferIo(cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    isTTY: false,
    env,
    cwd,
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

// Three pages in the tiny model's vocabulary, one topic each.
const PAGES: Record<string, string> = {
  "errors.html": page(
    "Errors",
    "<h2>Handle an exception</h2><p>Use try and except to catch an error. A traceback shows the bug; finally runs in the end.</p>",
  ),
  "venv.html": page(
    "Virtual environment",
    "<h2>Install a package</h2><p>Activate the virtual environment, then install each package and dependency with pip.</p>",
  ),
  "numbers.html": page(
    "Floating point",
    "<h2>Precision</h2><p>A floating point number is binary: a decimal fraction has rounding error in its precision.</p>",
  ),
};

describe("cml-lab ingest with --embedder local-onnx (tiny generated model, no network)", () => {
  let cwd = "";
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), "ingest-onnx-"));
    mkdirSync(join(cwd, "corpus"));
    for (const [file, html] of Object.entries(PAGES)) writeFileSync(join(cwd, "corpus", file), html);
  });

  it("indexes pages into the local store and the retriever answers with the same embedder", async () => {
    const run = bufferIo(cwd, { CML_LAB_ONNX_MODEL_DIR: MODEL_DIR });
    const argv = ["ingest", "run", "--dir", "corpus", "--data-dir", "data", "--embedder", "local-onnx"];
    expect(await main(argv, run.io), run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/index: 3 pages \(3 indexed, 0 unchanged/);

    const embedder = createLocalOnnxEmbedder({ modelDir: MODEL_DIR });
    const hybrid = await openRetriever({ dataDir: join(cwd, "data"), store: "local", embedder });
    expect(hybrid.describe().embedder).toBe(embedder.id);
    expect((await hybrid.retrieve("how do I handle an exception"))[0]?.docId).toBe("errors.html");

    // Dense only, and the query shares no word with the page it should find: only the model can match it.
    const dense = await openRetriever({
      dataDir: join(cwd, "data"),
      store: "local",
      embedder,
      retrieval: { mode: "dense", minDenseScore: 0 },
    });
    expect((await dense.retrieve("raise"))[0]?.docId).toBe("errors.html");
    expect((await dense.retrieve("venv module"))[0]?.docId).toBe("venv.html");

    // The same model again (flag instead of environment): nothing changed, nothing embedded.
    const again = bufferIo(cwd);
    const argv2 = ["ingest", "index", "--data-dir", "data", "--embedder", "local-onnx", "--onnx-model-dir", MODEL_DIR];
    expect(await main(argv2, again.io), again.stderr()).toBe(0);
    expect(again.stdout()).toMatch(/\(0 indexed, 3 unchanged.*0 texts embedded in 0 calls/s);
  });

  it("a store built with local-onnx refuses another embedder and cannot guess the model directory", async () => {
    const dataDir = join(cwd, "data");
    await expect(openRetriever({ dataDir, store: "local", embedder: createHashEmbedder() })).rejects.toThrow(
      /was built with local-onnx:tiny-bert@[0-9a-f]+:16, not hash-v1-512/,
    );
    await expect(openRetriever({ dataDir, store: "local" })).rejects.toThrow(/cannot be recreated from its id alone/);
    const index = bufferIo(cwd);
    expect(await main(["ingest", "index", "--data-dir", "data"], index.io)).toBe(1);
    expect(index.stderr()).toMatch(/--reindex/);
  });

  it("--embedder local-onnx without a model directory, or with a wrong one, is a user error", async () => {
    const none = bufferIo(cwd);
    expect(await main(["ingest", "index", "--data-dir", "data", "--embedder", "local-onnx"], none.io)).toBe(1);
    expect(none.stderr()).toMatch(/needs --onnx-model-dir \(or CML_LAB_ONNX_MODEL_DIR\)/);
    expect(none.stderr()).not.toMatch(/internal error/);

    const wrong = bufferIo(cwd);
    const argv = ["ingest", "index", "--data-dir", "data", "--embedder", "local-onnx", "--onnx-model-dir", "nope"];
    expect(await main(argv, wrong.io)).toBe(1);
    expect(wrong.stderr()).toMatch(/ONNX model directory .*nope does not exist/);
    expect(wrong.stderr()).toMatch(/onnx\/model\.onnx/);

    // `ingest run` checks the model directory before it scrapes: a typo does not cost a whole scrape.
    const run = bufferIo(cwd);
    const runArgv = ["ingest", "run", "--dir", "corpus", "--data-dir", "fresh", "--embedder", "local-onnx"];
    expect(await main([...runArgv, "--onnx-model-dir", "nope"], run.io)).toBe(1);
    expect(run.stderr()).toMatch(/nope does not exist/);
    expect(existsSync(join(cwd, "fresh", "pages"))).toBe(false);
  });
});
