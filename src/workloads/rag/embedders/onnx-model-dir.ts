import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { UserError } from "../../../shared/errors.js";
import { isJsonObject } from "../../../shared/json-shape.js";

/** What the `local-onnx` embedder needs to know about a model directory before loading anything heavy. */
export interface OnnxModelDir {
  /** Absolute path of the directory. */
  dir: string;
  /** The directory's name, used in the embedder id (e.g. `all-MiniLM-L6-v2`). */
  name: string;
  /** `hidden_size` from config.json: the vector size of mean-pooled token embeddings. */
  dim: number;
  /** Longest input in tokens: the least of model_max_length, max_position_embeddings and sentence-transformers' max_seq_length. */
  maxTokens: number;
  /** Where the ONNX file sits: `onnx` (transformers.js / Hugging Face layout) or `` (optimum-cli's export layout). */
  subfolder: "onnx" | "";
  /** sentence-transformers' pooling (1_Pooling/config.json) when the directory says so; mean otherwise. */
  pooling: "mean" | "cls";
  /** Short hash of the weights, tokenizer, pooling and length limit: a changed model gets a new embedder id. */
  fingerprint: string;
}

const REQUIRED = ["config.json", "tokenizer.json", "tokenizer_config.json"] as const;
export const EXPECTED_FILES = `${REQUIRED.join(", ")} and onnx/model.onnx (or model.onnx)`;

/** Reads and checks a model directory synchronously, so a wrong `--onnx-model-dir` fails before any work starts. */
export function readOnnxModelDir(path: string): OnnxModelDir {
  const dir = resolve(path);
  const hint = [
    `a model directory holds ${EXPECTED_FILES}`,
    "export one with: optimum-cli export onnx --model sentence-transformers/all-MiniLM-L6-v2 DIR (see the ingest docs)",
  ];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`ONNX model directory ${dir} does not exist`, { notes: hint });
  }
  const missing: string[] = REQUIRED.filter((file) => !existsSync(join(dir, file)));
  const subfolder = existsSync(join(dir, "onnx", "model.onnx"))
    ? "onnx"
    : existsSync(join(dir, "model.onnx"))
      ? ""
      : undefined;
  if (subfolder === undefined) missing.push("onnx/model.onnx");
  if (missing.length > 0 || subfolder === undefined) {
    throw new UserError(`ONNX model directory ${dir} lacks ${missing.join(", ")}`, { notes: hint });
  }

  const config = readJson(join(dir, "config.json"));
  const hidden = config.hidden_size ?? config.d_model ?? config.dim;
  if (typeof hidden !== "number" || !Number.isInteger(hidden) || hidden <= 0) {
    throw new UserError(`${join(dir, "config.json")} has no positive integer hidden_size`, { notes: hint });
  }
  const tokenizerConfig = readJson(join(dir, "tokenizer_config.json"));
  // sentence-transformers truncates at its own max_seq_length (256 for all-MiniLM-L6-v2, below BERT's 512).
  const sentenceConfigFile = join(dir, "sentence_bert_config.json");
  const sentenceConfig = existsSync(sentenceConfigFile) ? readJson(sentenceConfigFile) : {};
  const limits = [
    tokenizerConfig.model_max_length,
    config.max_position_embeddings,
    sentenceConfig.max_seq_length,
  ].filter((value): value is number => typeof value === "number" && value > 0);
  const maxTokens = limits.length > 0 ? Math.min(...limits) : 512;

  const poolingFile = join(dir, "1_Pooling", "config.json");
  const pooling = existsSync(poolingFile) && readJson(poolingFile).pooling_mode_cls_token === true ? "cls" : "mean";

  const hash = createHash("sha256");
  hashFile(hash, join(dir, subfolder, "model.onnx"));
  hashFile(hash, join(dir, "tokenizer.json"));
  hash.update(`${pooling} ${maxTokens}`);
  return {
    dir,
    name: basename(dir),
    dim: hidden,
    maxTokens: Math.floor(maxTokens),
    subfolder,
    pooling,
    fingerprint: hash.digest("hex").slice(0, 12),
  };
}

function readJson(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UserError(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isJsonObject(parsed)) throw new UserError(`${file} must hold a JSON object`);
  return parsed;
}

/** Streams the file into the hash: real models are hundreds of MB, so never read one whole. */
function hashFile(hash: ReturnType<typeof createHash>, file: string): void {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
}
