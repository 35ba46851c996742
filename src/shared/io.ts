import { createInterface } from "node:readline";

/** What a CLI writes to; tests pass buffers, bin passes the process streams. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is an interactive terminal (colour, live progress, prompts). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Asks a yes/no question on a TTY (default no); absent when there is no way to ask. */
  confirm?: (question: string) => Promise<boolean>;
}

export function processIo(): CliIo {
  // A question needs someone to answer it: both ends must be a terminal (not a pipe, not CI's log).
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
    ...(interactive ? { confirm: (question: string) => askYesNo(question, process.stdin, process.stdout) } : {}),
  };
}

/**
 * `question [y/N] `: only "y" or "yes" (any case) is yes; Enter, anything else, end of input (Ctrl-D) and
 * Ctrl-C are no, as in Terraform. Ctrl-C is caught here because readline would otherwise swallow it silently.
 */
export function askYesNo(
  question: string,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: true });
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(yes);
    };
    rl.on("SIGINT", () => {
      output.write("^C\n");
      finish(false);
    });
    rl.on("close", () => {
      if (!answered) output.write("\n");
      finish(false);
    });
    rl.question(`${question} [y/N] `, (answer) => finish(/^y(es)?$/i.test(answer.trim())));
  });
}
