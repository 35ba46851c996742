import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations; its exports are checked by this test.
import { generate, HIDDEN_SIZE, MODEL_DIR } from "../../scripts/gen-tiny-onnx-model.mjs";
import { UserError } from "../../src/shared/errors.js";
import { createEmbedder, embedderFromId } from "../../src/workloads/rag/embedders/create.js";
import { createLocalOnnxEmbedder } from "../../src/workloads/rag/embedders/local-onnx.js";

const norm = (v: Float32Array) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
const dot = (x: Float32Array, y: Float32Array) => x.reduce((sum, value, i) => sum + value * (y[i] ?? 0), 0);
const vec = (v: Float32Array | undefined) => v ?? new Float32Array();

function copyModel(name = "tiny-bert"): string {
  const dir = join(mkdtempSync(join(tmpdir(), "onnx-model-")), name);
  cpSync(MODEL_DIR, dir, { recursive: true });
  return dir;
}

describe("tiny-bert fixture", () => {
  it("regenerating gives the committed bytes", () => {
    const files: Record<string, Buffer> = generate();
    expect(Object.keys(files).sort()).toEqual([
      "config.json",
      "onnx/model.onnx",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    for (const [file, content] of Object.entries(files)) {
      expect(
        readFileSync(join(MODEL_DIR, file)).equals(content),
        `${file} differs: run node scripts/gen-tiny-onnx-model.mjs`,
      ).toBe(true);
    }
  });
});

describe("local-onnx embedder (transformers.js, local model directory only)", () => {
  const embedder = createLocalOnnxEmbedder({ modelDir: MODEL_DIR, batchSize: 2 });

  it("takes dim from config.json and names model, weights and dim in its id", () => {
    expect(embedder.dim).toBe(HIDDEN_SIZE);
    expect(embedder.id).toMatch(new RegExp(`^local-onnx:tiny-bert@[0-9a-f]{12}:${HIDDEN_SIZE}$`));
    expect(embedder.maxTokens).toBe(128);
    expect(createEmbedder({ kind: "local-onnx", modelDir: MODEL_DIR }).id).toBe(embedder.id);
  });

  it("returns L2-normalised vectors of the model's dim, deterministically, closer for related text", async () => {
    const texts = [
      "How do I handle an exception?",
      "catching errors with try and except",
      "my kitten and my puppy",
      "floating point precision and rounding",
    ];
    const vectors = await embedder.embedDocuments(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector.length).toBe(HIDDEN_SIZE);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    const [errors, alsoErrors, pets, numbers] = [0, 1, 2, 3].map((i) => vec(vectors[i]));
    if (!errors || !alsoErrors || !pets || !numbers) throw new Error("four vectors expected");
    expect(dot(errors, alsoErrors)).toBeGreaterThan(dot(errors, pets) + 0.3);
    expect(dot(errors, alsoErrors)).toBeGreaterThan(dot(errors, numbers) + 0.3);
    // A fresh embedder on the same directory (same process, cached pipeline) and a query give the same vectors.
    const again = createLocalOnnxEmbedder({ modelDir: MODEL_DIR });
    expect(await again.embedDocuments(texts)).toEqual(vectors);
    expect(await embedder.embedQuery(texts[0] ?? "")).toEqual(errors);
  });

  it("batched and length-sorted embeddings equal one-by-one embeddings, in input order", async () => {
    const texts = ["pip", "install a package in a virtual environment with pip", "", "raise an error", "a dog"];
    const batched = await embedder.embedDocuments(texts);
    const single = await Promise.all(texts.map((text) => embedder.embedQuery(text)));
    expect(batched).toHaveLength(texts.length);
    for (const [i, vector] of batched.entries()) {
      const expected = vec(single[i]);
      for (let d = 0; d < HIDDEN_SIZE; d++) expect(vector[d]).toBeCloseTo(expected[d] ?? Number.NaN, 5);
    }
  });

  it("loads from a directory whose name is not a valid Hub model id", async () => {
    const odd = createLocalOnnxEmbedder({ modelDir: copyModel("my model--copy") });
    expect(odd.id).toMatch(/^local-onnx:my model--copy@/);
    expect(await odd.embedQuery("raise an error")).toEqual(await embedder.embedQuery("raise an error"));
  });

  it("a changed model gets a new id, so a store built with the old one refuses it", () => {
    const dir = copyModel();
    const before = createLocalOnnxEmbedder({ modelDir: dir }).id;
    const model = join(dir, "onnx", "model.onnx");
    const bytes = readFileSync(model);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 1;
    writeFileSync(model, bytes);
    expect(createLocalOnnxEmbedder({ modelDir: dir }).id).not.toBe(before);
  });

  it("honours sentence-transformers' max_seq_length and pooling files, which change the id", async () => {
    const dir = copyModel();
    const plain = createLocalOnnxEmbedder({ modelDir: dir });
    writeFileSync(join(dir, "sentence_bert_config.json"), JSON.stringify({ max_seq_length: 64 }));
    const capped = createLocalOnnxEmbedder({ modelDir: dir });
    expect(capped.maxTokens).toBe(64);
    // [CLS] + 63 words fill 64 tokens (transformers.js cuts the trailing [SEP] too): the rest is cut off, by
    // the capped embedder only.
    const head = Array.from({ length: 63 }, (_, i) => (i % 2 ? "error" : "traceback")).join(" ");
    const long = `${head} ${"kitten ".repeat(30)}`;
    expect(await capped.embedQuery(long)).toEqual(await capped.embedQuery(head));
    expect(await plain.embedQuery(long)).not.toEqual(await plain.embedQuery(head));
    mkdirSync(join(dir, "1_Pooling"));
    writeFileSync(join(dir, "1_Pooling", "config.json"), JSON.stringify({ pooling_mode_cls_token: true }));
    const cls = createLocalOnnxEmbedder({ modelDir: dir });
    expect(new Set([plain.id, capped.id, cls.id]).size).toBe(3);
    // CLS pooling takes the first token's vector; in a bag-of-words model that is [CLS] whatever the text.
    expect(await cls.embedQuery("raise an error")).toEqual(await cls.embedQuery("my kitten"));
    expect(await plain.embedQuery("raise an error")).not.toEqual(await plain.embedQuery("my kitten"));
  });
});

describe("reopening a local-onnx index from its recorded id (the app and the query job)", () => {
  it("takes the model directory from CML_LAB_ONNX_MODEL_DIR and checks it is the recorded model", () => {
    const id = createLocalOnnxEmbedder({ modelDir: MODEL_DIR }).id;
    expect(embedderFromId(id, { CML_LAB_ONNX_MODEL_DIR: MODEL_DIR }).id).toBe(id);
    expect(() => embedderFromId(id, {})).toThrow(/cannot be recreated from its id alone/);

    const other = copyModel();
    writeFileSync(join(other, "config.json"), JSON.stringify({ model_type: "bert", hidden_size: 8 }));
    expect(() => embedderFromId(id, { CML_LAB_ONNX_MODEL_DIR: other })).toThrow(
      /built with local-onnx:tiny-bert@[0-9a-f]{12}:16, but CML_LAB_ONNX_MODEL_DIR holds local-onnx:tiny-bert@[0-9a-f]{12}:8/,
    );
  });
});

describe("local-onnx refuses what it cannot run offline", () => {
  it("a missing model directory is a UserError naming the files expected", () => {
    const missing = join(tmpdir(), "no-such-onnx-model");
    expect(() => createLocalOnnxEmbedder({ modelDir: missing })).toThrow(UserError);
    expect(() => createLocalOnnxEmbedder({ modelDir: missing })).toThrow(/no-such-onnx-model does not exist/);
    try {
      createLocalOnnxEmbedder({ modelDir: missing });
    } catch (error) {
      expect(error instanceof UserError && error.notes.join("\n")).toMatch(
        /config\.json, tokenizer\.json, tokenizer_config\.json and onnx\/model\.onnx/,
      );
    }
  });

  it("a directory without the model files lists the ones that are missing", () => {
    const dir = copyModel();
    rmSync(join(dir, "onnx"), { recursive: true });
    rmSync(join(dir, "tokenizer.json"));
    const attempt = () => createLocalOnnxEmbedder({ modelDir: dir });
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/lacks tokenizer\.json, onnx\/model\.onnx/);
  });

  it("a config.json without hidden_size is a UserError", () => {
    const dir = copyModel();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "bert" }));
    expect(() => createLocalOnnxEmbedder({ modelDir: dir })).toThrow(/has no positive integer hidden_size/);
  });

  it("a model name that is not a directory on disk fails at once, never resolved on the Hub", async () => {
    const started = Date.now();
    expect(() => createLocalOnnxEmbedder({ modelDir: "sentence-transformers/all-MiniLM-L6-v2" })).toThrow(
      /does not exist/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("a file that goes missing after the check is not downloaded: loading fails with a UserError", async () => {
    const dir = copyModel();
    const embedder = createLocalOnnxEmbedder({ modelDir: dir });
    rmSync(join(dir, "tokenizer_config.json"));
    const failure = await embedder.embedQuery("raise an error").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UserError);
    expect(String(failure)).toMatch(/cannot load the ONNX model .*allowRemoteModels=false/s);
    // The global transformers.js settings the embedder relies on: no Hub, and a fetch that refuses.
    const { env } = await import("@huggingface/transformers");
    expect(env.allowRemoteModels).toBe(false);
    await expect(env.fetch("https://huggingface.co/x/resolve/main/config.json")).rejects.toThrow(
      /never uses the network/,
    );
  });

  it("without transformers.js installed it says how to install it", () => {
    const attempt = () => createLocalOnnxEmbedder({ modelDir: MODEL_DIR, packageName: "@huggingface/not-installed" });
    expect(attempt).toThrow(UserError);
    try {
      attempt();
    } catch (error) {
      expect(error instanceof UserError && error.notes.join("\n")).toMatch(
        /npm install @huggingface\/transformers@~4\.3\.0/,
      );
    }
  });
});
