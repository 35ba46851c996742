import { createRequire } from "node:module";
import { basename, dirname } from "node:path";
import { UserError } from "../../../shared/errors.js";
import { workloadPackagesMissing } from "../../../shared/workload-packages.js";
import { type Embedder, l2normalize } from "./embedder.js";
import { readOnnxModelDir } from "./onnx-model-dir.js";

export const TRANSFORMERS_PACKAGE = "@huggingface/transformers";

export interface LocalOnnxEmbedderOptions {
  /** A model directory on disk: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx. */
  modelDir: string;
  /** Texts per forward pass (texts are sorted by length first, so a batch pads little). */
  batchSize?: number;
  /** Tests point this at a package that is not installed to see the install hint. */
  packageName?: string;
}

/**
 * The narrow part of transformers.js this embedder uses. The package is a workload package (≈470 MB with
 * onnxruntime, src/shared/workload-packages.ts), so nothing here imports its types: a build without it must
 * still compile. A type test (test/types/local-onnx.test-d.ts) checks the real module satisfies this shape.
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

/** A tensor as transformers.js hands it out: `data` is checked at run time (Float32Array, BigInt64Array). */
export interface TensorLike {
  dims: number[];
  data: unknown;
}

/** The feature-extraction pipeline, used for its loaded tokenizer and model; pooling is done here. */
export interface FeatureExtractor {
  tokenizer: (
    texts: string[],
    options: { padding: true; truncation: true; max_length: number },
  ) => { attention_mask: TensorLike };
  model: (inputs: { attention_mask: TensorLike }) => Promise<Record<string, unknown>>;
}

function isTransformersModule(value: unknown): value is TransformersModule {
  return (
    typeof value === "object" &&
    value !== null &&
    "pipeline" in value &&
    typeof value.pipeline === "function" &&
    "env" in value &&
    typeof value.env === "object" &&
    value.env !== null &&
    "LogLevel" in value &&
    typeof value.LogLevel === "object"
  );
}

/** `packageName` is what was looked for (tests name one that is missing); the hint names the real package. */
function notInstalled(cause?: unknown): UserError {
  return workloadPackagesMissing("--embedder local-onnx", [TRANSFORMERS_PACKAGE], cause);
}

async function importTransformers(packageName: string): Promise<TransformersModule> {
  let loaded: unknown;
  try {
    loaded = await import(packageName);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ERR_MODULE_NOT_FOUND") {
      throw notInstalled(error);
    }
    throw error;
  }
  if (!isTransformersModule(loaded)) throw new Error(`${packageName} does not export pipeline, env and LogLevel`);
  return loaded;
}

// One pipeline per model directory per process. Loads run one at a time because transformers.js reads the
// model location from its global `env.localModelPath`.
const HUB_ID = /^\w(?:[\w.-]{0,94}\w)?$/;
const pipelines = new Map<string, Promise<FeatureExtractor>>();
let loading: Promise<unknown> = Promise.resolve();

function loadPipeline(packageName: string, dir: string, subfolder: string) {
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
      // transformers.js looks a model id up under localModelPath; a directory name it would not accept as an id
      // (spaces, "--") is passed as the absolute path, which it reads as is.
      const name = basename(dir);
      const usableAsId = HUB_ID.test(name) && !name.includes("--") && !name.includes("..");
      env.localModelPath = `${dirname(dir)}/`;
      const modelId = usableAsId ? name : dir;
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
    throw notInstalled(error);
  }
  const batchSize = options.batchSize ?? 32;

  const forward = async (texts: string[]): Promise<Float32Array[]> => {
    const { tokenizer, model: run } = await loadPipeline(packageName, model.dir, model.subfolder);
    // max_length, not the tokenizer's own model_max_length: some exports leave that at a huge sentinel, and
    // sentence-transformers truncates earlier (max_seq_length).
    const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: model.maxTokens });
    const outputs = await run(inputs);
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
    return pool(hidden, inputs.attention_mask, texts.length, model.dim, model.pooling, model.dir);
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

/**
 * Token embeddings [batch, seq, dim] → one L2-normalised vector per text: the mean over the tokens the
 * attention mask keeps (padding excluded, so batching does not change a text's vector), or the first token's.
 */
function pool(
  hidden: unknown,
  mask: TensorLike,
  batch: number,
  dim: number,
  pooling: "mean" | "cls",
  dir: string,
): Float32Array[] {
  const isTensor = (value: unknown): value is TensorLike =>
    typeof value === "object" && value !== null && "dims" in value && Array.isArray(value.dims) && "data" in value;
  const shape = isTensor(hidden) ? hidden.dims : [];
  const data = isTensor(hidden) ? hidden.data : undefined;
  const seq = shape[1] ?? 0;
  if (!(data instanceof Float32Array) || shape.length !== 3 || shape[0] !== batch || shape[2] !== dim) {
    throw new UserError(
      `the ONNX model in ${dir} returned token embeddings of shape [${shape.join(", ")}]; expected [${batch}, sequence, ${dim}] (hidden_size in config.json) named last_hidden_state or token_embeddings`,
    );
  }
  const keep = mask.data;
  if (!(keep instanceof BigInt64Array) || keep.length !== batch * seq) {
    throw new Error(`the tokenizer returned an attention mask of ${mask.dims.join("x")}; expected ${batch}x${seq}`);
  }
  return Array.from({ length: batch }, (_, row) => {
    const vector = new Float32Array(dim);
    if (pooling === "cls") {
      vector.set(data.subarray(row * seq * dim, row * seq * dim + dim));
    } else {
      let count = 0;
      for (let t = 0; t < seq; t++) {
        if (keep[row * seq + t] === 0n) continue;
        count++;
        const at = (row * seq + t) * dim;
        for (let d = 0; d < dim; d++) vector[d] = (vector[d] ?? 0) + (data[at + d] ?? 0);
      }
      if (count > 0) for (let d = 0; d < dim; d++) vector[d] = (vector[d] ?? 0) / count;
    }
    return l2normalize(vector);
  });
}
