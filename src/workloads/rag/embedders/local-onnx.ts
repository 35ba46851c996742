import { createRequire } from "node:module";
import { dirname } from "node:path";
import { UserError } from "../../../shared/errors.js";
import type { Embedder } from "./embedder.js";
import { readOnnxModelDir } from "./onnx-model-dir.js";

export const TRANSFORMERS_PACKAGE = "@huggingface/transformers";
const INSTALL = "npm install @huggingface/transformers@~4.3.0";

export interface LocalOnnxEmbedderOptions {
  /** A model directory on disk: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx. */
  modelDir: string;
  /** Texts per forward pass (texts are sorted by length first, so a batch pads little). */
  batchSize?: number;
  /** Tests point this at a package that is not installed to see the install hint. */
  packageName?: string;
}

/**
 * The narrow part of transformers.js this embedder uses. The package is an optional dependency (≈470 MB with
 * onnxruntime), so nothing here imports its types: `npm ci --omit=optional` must still build. A type test
 * (test/types/local-onnx.test-d.ts) checks the real module satisfies this shape.
 */
export interface TransformersModule {
  env: {
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    localModelPath: string;
    useFSCache: boolean;
    useBrowserCache: boolean;
    logLevel: number;
    fetch: (input: string | URL) => Promise<unknown>;
  };
  LogLevel: { readonly ERROR: number };
  pipeline(
    task: "feature-extraction",
    model: string,
    options: { dtype: "fp32"; subfolder: string; local_files_only: boolean },
  ): Promise<FeatureExtractor>;
}

export interface FeatureExtractor {
  (
    texts: string[],
    options: { pooling: "mean" | "cls"; normalize: boolean },
  ): Promise<{ dims: number[]; data: unknown }>;
  tokenizer: { model_max_length: number };
}

function isTransformersModule(value: unknown): value is TransformersModule {
  return (
    typeof value === "object" &&
    value !== null &&
    "pipeline" in value &&
    typeof value.pipeline === "function" &&
    "env" in value &&
    typeof value.env === "object" &&
    value.env !== null
  );
}

function notInstalled(packageName: string, cause?: unknown): UserError {
  return new UserError(`--embedder local-onnx needs ${packageName}, which is not installed`, {
    cause,
    notes: [
      `install it with ${INSTALL}`,
      "it is an optional dependency of cml-lab (about 470 MB with onnxruntime): npm ci installs it unless --omit=optional",
    ],
  });
}

async function importTransformers(packageName: string): Promise<TransformersModule> {
  let loaded: unknown;
  try {
    loaded = await import(packageName);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ERR_MODULE_NOT_FOUND") {
      throw notInstalled(packageName, error);
    }
    throw error;
  }
  if (!isTransformersModule(loaded)) throw new Error(`${packageName} does not export pipeline and env`);
  return loaded;
}

// One pipeline per model directory per process. Loads run one at a time because transformers.js reads the
// model location from its global `env.localModelPath`.
const pipelines = new Map<string, Promise<FeatureExtractor>>();
let loading: Promise<unknown> = Promise.resolve();

function loadPipeline(packageName: string, dir: string, subfolder: string, maxTokens: number) {
  const key = `${packageName}\0${dir}`;
  let pipeline = pipelines.get(key);
  if (!pipeline) {
    pipeline = loading.then(async () => {
      const transformers = await importTransformers(packageName);
      const { env } = transformers;
      // Offline by construction: never ask the Hub, never write a cache next to node_modules, and fail loudly
      // if anything still tries the network (a file missing on disk must not turn into a download).
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.useFSCache = false;
      env.useBrowserCache = false;
      env.logLevel = transformers.LogLevel.ERROR;
      env.fetch = async (input) => {
        throw new Error(`local-onnx never uses the network (transformers.js asked for ${String(input)})`);
      };
      env.localModelPath = `${dirname(dir)}/`;
      const modelId = dir.slice(dirname(dir).length + 1);
      let extractor: FeatureExtractor;
      try {
        extractor = await transformers.pipeline("feature-extraction", modelId, {
          dtype: "fp32",
          subfolder,
          local_files_only: true,
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new UserError(`cannot load the ONNX model in ${dir}: ${reason}`, { cause: error });
      }
      // Some exports leave model_max_length at a huge sentinel; truncate to what the position embeddings allow.
      if (!(extractor.tokenizer.model_max_length <= maxTokens)) extractor.tokenizer.model_max_length = maxTokens;
      return extractor;
    });
    loading = pipeline.catch(() => undefined);
    pipelines.set(key, pipeline);
    // A failed load (missing package, broken file) is not cached: fixing it and retrying must work.
    pipeline.catch(() => pipelines.delete(key));
  }
  return pipeline;
}

/**
 * Embeddings from a local ONNX export of a sentence-transformers/BERT-style model, run by transformers.js on
 * onnxruntime-node: mean pooling (or the directory's sentence-transformers pooling), L2-normalised, fp32.
 * Only a directory on disk is accepted (`allowRemoteModels = false`): no model name is ever resolved on the Hub.
 * The directory is checked at once; transformers.js and the model load on the first call, once per process.
 */
export function createLocalOnnxEmbedder(options: LocalOnnxEmbedderOptions): Embedder {
  const model = readOnnxModelDir(options.modelDir);
  const packageName = options.packageName ?? TRANSFORMERS_PACKAGE;
  try {
    createRequire(import.meta.url).resolve(packageName);
  } catch (error) {
    throw notInstalled(packageName, error);
  }
  const batchSize = options.batchSize ?? 32;

  const forward = async (texts: string[]): Promise<Float32Array[]> => {
    const extractor = await loadPipeline(packageName, model.dir, model.subfolder, model.maxTokens);
    const output = await extractor(texts, { pooling: model.pooling, normalize: true });
    const { data, dims } = output;
    if (!(data instanceof Float32Array) || dims[0] !== texts.length || dims[1] !== model.dim) {
      throw new UserError(
        `the ONNX model in ${model.dir} returned shape [${dims.join(", ")}]; expected [${texts.length}, ${model.dim}] (hidden_size in config.json)`,
      );
    }
    return texts.map((_, row) => data.slice(row * model.dim, (row + 1) * model.dim));
  };

  const embedDocuments = async (texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> => {
    // Length-sorted batches: a batch pads to its longest text, and attention-masked mean pooling makes the
    // result independent of the padding, so the order only changes the speed.
    const order = texts.map((_, index) => index).sort((a, b) => (texts[a] ?? "").length - (texts[b] ?? "").length);
    const out: Float32Array[] = new Array(texts.length);
    for (let at = 0; at < order.length; at += batchSize) {
      signal?.throwIfAborted();
      const indices = order.slice(at, at + batchSize);
      const vectors = await forward(indices.map((index) => texts[index] ?? ""));
      indices.forEach((index, position) => {
        out[index] = vectors[position] ?? new Float32Array(model.dim);
      });
    }
    return out;
  };

  return {
    id: `local-onnx:${model.name}@${model.fingerprint}:${model.dim}`,
    dim: model.dim,
    maxTokens: model.maxTokens,
    embedDocuments,
    embedQuery: async (text, signal) => {
      signal?.throwIfAborted();
      return (await forward([text]))[0] ?? new Float32Array(model.dim);
    },
  };
}
