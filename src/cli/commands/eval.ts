/**
 * `cml-lab eval`: retrieval quality on a labelled corpus. Ingests the corpus into a temporary local store and
 * scores every config at the page level, with the lab's own method and plain page BM25 as reference rows.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { loadWorkload } from "../../shared/workload-packages.js";
import { HTML_PACKAGES } from "../../workloads/ingest/packages.js";
import { createEmbedder } from "../../workloads/rag/embedders/create.js";
import type { EvalReport } from "../../workloads/rag/eval.js";
import { EVAL_CONFIGS, type EvalConfig } from "../../workloads/rag/eval-configs.js";
import { type EmbedderArgs, embedderOptions, embedderSpec } from "./embedder-options.js";

interface EvalArgs extends EmbedderArgs {
  corpus: string;
  questions: string;
  config: string[];
  json: boolean;
  "questions-filter": string | undefined;
}

export const evalCommand: CliCommand = (ctx) =>
  defineCommand<EvalArgs>({
    command: "eval",
    describe: "Measure retrieval (hit@k, MRR@10, nDCG@10) on a corpus of HTML pages and a questions file",
    builder: (y) =>
      embedderOptions(y)
        .option("corpus", { type: "string", demandOption: true, describe: "Directory of HTML pages" })
        .option("questions", { type: "string", demandOption: true, describe: "JSONL: id, question, expected, kind" })
        .option("config", {
          type: "string",
          array: true,
          default: ["all"],
          describe: `Configs to score, repeated or comma-separated: ${EVAL_CONFIGS.join(", ")} or all`,
        })
        .option("questions-filter", {
          type: "string",
          describe:
            "Only the questions whose id matches: odd or even (by the number in the id, for a dev/test split), " +
            "or a regular expression",
        })
        .option("json", { type: "boolean", default: false, describe: "Print one JSON document" })
        .example(
          "$0 eval --corpus /usr/share/doc/postgresql-doc-15/html --questions bench/eval/postgresql-15-qa.jsonl",
          "score every config on the PostgreSQL 15 docs (see bench/eval/README.md)",
        )
        .example(
          "$0 eval --corpus DIR --questions qa.jsonl --config hybrid,bm25 --questions-filter odd --json",
          "two configs on the odd-numbered questions, as JSON",
        ),
    handler: async (args) => {
      const corpus = resolve(ctx.io.cwd, args.corpus);
      const questionsFile = resolve(ctx.io.cwd, args.questions);
      if (!existsSync(corpus)) throw new UserError(`no corpus directory at ${corpus}`);
      if (!existsSync(questionsFile)) throw new UserError(`no questions file at ${questionsFile}`);
      const { filterQuestions, loadQuestions, runEval } = await loadWorkload(
        "cml-lab eval",
        HTML_PACKAGES,
        () => import("../../workloads/rag/eval.js"),
      );
      const all = loadQuestions(questionsFile);
      const filter = args["questions-filter"];
      const questions = filter === undefined ? all : filterQuestions(all, filter);
      if (!questions.length)
        throw new UserError(`no question in ${questionsFile} matches --questions-filter ${filter}`);
      const report = await runEval({
        corpus,
        questions,
        configs: parseConfigs(args.config),
        embedder: createEmbedder(embedderSpec(ctx, args)),
      });
      ctx.io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    },
  });

/** `--config hybrid --config bm25-page`, `--config hybrid,bm25-page` or `all`, in the order given. */
export function parseConfigs(values: readonly string[]): EvalConfig[] {
  const configs = new Set<EvalConfig>();
  for (const value of values.flatMap((v) => v.split(",")).map((v) => v.trim())) {
    if (value === "all") for (const config of EVAL_CONFIGS) configs.add(config);
    else if ((EVAL_CONFIGS as readonly string[]).includes(value)) configs.add(value as EvalConfig);
    else throw new UserError(`--config ${value}: not a config; choose from ${EVAL_CONFIGS.join(", ")} or all`);
  }
  return [...configs];
}

export function renderReport(report: EvalReport): string {
  const lines = [
    `corpus ${report.corpus}: ${report.pages} pages, ${report.chunks} chunks, ${report.questions} questions, ` +
      `embedder ${report.embedder}, ingest ${report.ingestSeconds.toFixed(1)}s`,
    "",
    `${"config".padEnd(14)}${["hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "ms/q", "p50 ms"].map((h) => h.padStart(9)).join("")}`,
  ];
  const kinds = new Set<string>();
  for (const [config, result] of Object.entries(report.configs)) {
    const values = [result["hit@1"], result["hit@5"], result["hit@10"], result["mrr@10"], result["ndcg@10"]];
    lines.push(
      `${config.padEnd(14)}${values.map((v) => v.toFixed(3).padStart(9)).join("")}${result.queryMs.toFixed(1).padStart(9)}${result.queryP50Ms.toFixed(1).padStart(9)}`,
    );
    for (const kind of Object.keys(result.byKind)) kinds.add(kind);
  }
  lines.push("", `hit@5 by kind: ${"".padEnd(0)}`);
  lines.push(`${"config".padEnd(14)}${[...kinds].map((kind) => kind.padStart(13)).join("")}`);
  for (const [config, result] of Object.entries(report.configs)) {
    lines.push(
      `${config.padEnd(14)}${[...kinds].map((kind) => (result.byKind[kind] ?? 0).toFixed(3).padStart(13)).join("")}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
