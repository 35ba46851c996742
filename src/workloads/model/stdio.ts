/**
 * `node dist/workloads/model/stdio.js`: one predict() call over stdin/stdout, for launchers/model.py (a CML
 * Python model runtime calls node once per request). Input and output are JSON; failures go to stderr
 * with exit code 2 (bad input) or 1.
 */
import { installOutbound } from "../../shared/outbound.js";
import { PredictInputError, predict } from "./predict.js";

installOutbound();

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
try {
  const result = await predict(JSON.parse(Buffer.concat(chunks).toString("utf8")));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  const bad = error instanceof PredictInputError || error instanceof SyntaxError;
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = bad ? 2 : 1;
}
