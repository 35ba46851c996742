#!/usr/bin/env node
// Writes test/fixtures/tiny-bert: a BERT-shaped model directory small enough to commit (a few KB) that
// transformers.js loads exactly as it loads an exported sentence-transformers model (config.json, tokenizer.json,
// tokenizer_config.json, onnx/model.onnx). The tests of the `local-onnx` embedder run it instead of downloading one.
//
// The "model" is a bag of word embeddings: the ONNX graph is one Gather from a fixed [vocab, hidden] matrix, so
// last_hidden_state[b, s] = E[input_ids[b, s]] and mean pooling averages the word vectors. Words of one topic share
// a topic direction, so texts about the same topic embed closer than unrelated ones even without shared words.
// Everything is derived from a seeded PRNG, so regenerating gives the same bytes (a test checks that).
//
//   node scripts/gen-tiny-onnx-model.mjs           write the files
//   node scripts/gen-tiny-onnx-model.mjs --check   exit 1 when the committed files differ
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const MODEL_DIR = fileURLToPath(new URL("../test/fixtures/tiny-bert", import.meta.url));
export const HIDDEN_SIZE = 16;

const SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
/** Topic words: a word's vector is its topic's direction plus a little word-specific noise. */
const TOPICS = {
  errors: ["error", "exception", "try", "except", "raise", "handle", "traceback", "catch", "finally", "bug"],
  environments: ["virtual", "environment", "venv", "package", "install", "pip", "module", "dependency", "activate"],
  numbers: ["float", "floating", "point", "decimal", "precision", "rounding", "number", "fraction", "binary"],
  animals: ["cat", "kitten", "dog", "puppy", "pet", "animal", "fur", "paw"],
};
/** Words that carry little meaning get short vectors, a crude stand-in for what a trained model learns. */
const FUNCTION_WORDS = ["how", "do", "i", "the", "a", "an", "to", "and", "with", "in", "of", "is", "what", "use", "my"];
const SUFFIXES = ["##s", "##es", "##ing", "##ed", "##al"];
const PUNCTUATION = [".", ",", "?", "!", ":", "(", ")"];

/** mulberry32: a tiny deterministic PRNG (same sequence on every platform). */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vocabulary() {
  return [...SPECIAL, ...Object.values(TOPICS).flat(), ...FUNCTION_WORDS, ...SUFFIXES, ...PUNCTUATION];
}

/** The [vocab, hidden] embedding matrix, row by row. */
function embeddings(vocab) {
  const random = prng(20260611);
  const gaussianish = () => random() + random() + random() - 1.5;
  const vector = (scale) => Array.from({ length: HIDDEN_SIZE }, () => gaussianish() * scale);
  const topicOf = new Map();
  for (const words of Object.values(TOPICS)) {
    const direction = vector(1);
    for (const word of words) topicOf.set(word, direction);
  }
  return vocab.map((token) => {
    const topic = topicOf.get(token);
    if (topic) return vector(0.35).map((noise, i) => topic[i] + noise);
    if (FUNCTION_WORDS.includes(token) || PUNCTUATION.includes(token)) return vector(0.1);
    if (SPECIAL.includes(token)) return vector(0.05);
    return vector(0.3);
  });
}

// --- a minimal protobuf writer: just what ONNX's ModelProto needs (varints, lengths, bytes) ---

function varint(value) {
  const out = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const int = (field, value) => Buffer.concat([key(field, 0), varint(value)]);
const bytes = (field, data) => Buffer.concat([key(field, 2), varint(data.length), data]);
const str = (field, text) => bytes(field, Buffer.from(text, "utf8"));
const msg = (field, ...parts) => bytes(field, Buffer.concat(parts));

// onnx.proto TensorProto.DataType
const FLOAT = 1;
const INT64 = 7;

/** ValueInfoProto: name + tensor type with a shape whose dims are numbers or symbolic names. */
function valueInfo(field, name, elemType, dims) {
  const shape = dims.map((dim) => msg(1, typeof dim === "number" ? int(1, dim) : str(2, dim)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, elemType), msg(2, ...shape))));
}

function modelProto(matrix) {
  const raw = Buffer.alloc(matrix.length * HIDDEN_SIZE * 4);
  for (const [i, value] of matrix.flat().entries()) raw.writeFloatLE(value, i * 4);
  const initializer = msg(
    5,
    int(1, matrix.length),
    int(1, HIDDEN_SIZE),
    int(2, FLOAT),
    str(8, "word_embeddings"),
    bytes(9, raw),
  );
  // Gather(data = E [vocab, hidden], indices = input_ids [batch, seq]) -> [batch, seq, hidden] (axis 0 by default).
  const gather = msg(
    1,
    str(1, "word_embeddings"),
    str(1, "input_ids"),
    str(2, "last_hidden_state"),
    str(3, "embed"),
    str(4, "Gather"),
  );
  const graph = msg(
    7,
    gather,
    str(2, "tiny_bert_bag_of_words"),
    initializer,
    // A BERT export takes all three inputs; the tokenizer produces them, so the graph declares them too.
    valueInfo(11, "input_ids", INT64, ["batch_size", "sequence_length"]),
    valueInfo(11, "attention_mask", INT64, ["batch_size", "sequence_length"]),
    valueInfo(11, "token_type_ids", INT64, ["batch_size", "sequence_length"]),
    valueInfo(12, "last_hidden_state", FLOAT, ["batch_size", "sequence_length", HIDDEN_SIZE]),
  );
  // ir_version 8, producer, graph, opset_import { domain "", version 13 }.
  return Buffer.concat([int(1, 8), str(2, "cml-lab gen-tiny-onnx-model"), graph, msg(8, str(1, ""), int(2, 13))]);
}

function tokenizerJson(vocab) {
  const ids = Object.fromEntries(vocab.map((token, id) => [token, id]));
  const special = (token) => ({ id: token, type_id: 0 });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: special("[CLS]") },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: special("[SEP]") },
      ],
      pair: [
        { SpecialToken: special("[CLS]") },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: special("[SEP]") },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ["[CLS]", "[SEP]"].map((token) => [token, { id: token, ids: [ids[token]], tokens: [token] }]),
      ),
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

/** Every file of the model directory, by path relative to it. Pure. */
export function generate() {
  const vocab = vocabulary();
  const json = (value) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
  return {
    "config.json": json({
      architectures: ["BertModel"],
      model_type: "bert",
      hidden_size: HIDDEN_SIZE,
      vocab_size: vocab.length,
      num_hidden_layers: 1,
      num_attention_heads: 1,
      intermediate_size: HIDDEN_SIZE,
      max_position_embeddings: 128,
      type_vocab_size: 2,
      pad_token_id: 0,
    }),
    "tokenizer.json": json(tokenizerJson(vocab)),
    "tokenizer_config.json": json({
      tokenizer_class: "BertTokenizer",
      do_lower_case: true,
      model_max_length: 128,
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      mask_token: "[MASK]",
      clean_up_tokenization_spaces: true,
    }),
    "onnx/model.onnx": modelProto(embeddings(vocab)),
  };
}

async function main() {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [file, content] of Object.entries(generate())) {
    const path = join(MODEL_DIR, file);
    if (check) {
      const current = await readFile(path).catch(() => undefined);
      if (!current?.equals(content)) {
        console.error(`${path} is out of date: run node scripts/gen-tiny-onnx-model.mjs`);
        stale++;
      }
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
  }
  process.exitCode = stale ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
