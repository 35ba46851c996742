/**
 * The retrieval configs `cml-lab eval` scores. Apart from rag/eval.ts, which loads the HTML pipeline's workload
 * packages, so that the CLI can list the configs in `--help` without them.
 */
export const EVAL_CONFIGS = ["hybrid", "bm25", "dense", "bm25-page", "lab-baseline"] as const;
export type EvalConfig = (typeof EVAL_CONFIGS)[number];
