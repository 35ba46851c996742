/**
 * `cml-lab start` (what `npm start` runs) and `cml-lab stop` (`npm stop`): the whole lab on the local platform.
 * Thin: the work is src/lab/start.ts.
 */

import { fileURLToPath } from "node:url";
import { startLab } from "../../lab/start.js";
import { localDown } from "../../local/daemon.js";
import { platformDir, platformDirOptionWithDefault } from "../../shared/cli-options.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface StartArgs {
  "data-dir": string;
}

export const startCommand: CliCommand = (ctx) =>
  defineCommand<StartArgs>({
    command: "start",
    describe:
      "Run the whole lab here: the local platform, deploy apply manifests/lab.yaml, ingest the sample docs, print the chat app's URL",
    builder: (y) =>
      platformDirOptionWithDefault(y, "Local platform data directory (projects, runs, logs)").example(
        "$0 start",
        "first run: ~1 minute; later runs change nothing and print the same URL",
      ),
    handler: async (args) => {
      await startLab({ root: ROOT, dataDir: platformDir(ctx.io, args["data-dir"]), io: ctx.io });
    },
  });

export const stopCommand: CliCommand = (ctx) =>
  defineCommand<StartArgs>({
    command: "stop",
    describe: "Stop the local platform and every job, application and model it runs (state is kept)",
    builder: (y) =>
      platformDirOptionWithDefault(y, "Local platform data directory").example(
        "$0 stop",
        "stop everything `$0 start` started; the next start picks up the same state",
      ),
    handler: async (args) => {
      const down = await localDown(platformDir(ctx.io, args["data-dir"]));
      ctx.io.stdout(
        down.stopped ? `stopped the local platform (pid ${down.pid})\n` : "the local platform was not running\n",
      );
      if (down.leftovers > 0)
        ctx.io.stdout(`ended ${down.leftovers} workload processes left by a server that had stopped\n`);
    },
  });
