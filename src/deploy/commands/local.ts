/**
 * `deploy local up|status|down|logs`: the local platform as a background server (thin handlers; the work is
 * src/local/daemon.ts). `up` writes `<data dir>/server.json`, which `deploy --target local` reads.
 */
import { localDown, localLogs, localUp, runningServer } from "../../local/daemon.js";
import { readServerApiKey, serverRecordFile } from "../../local/server-record.js";
import {
  DEFAULT_LOCAL_DATA_DIR,
  numberOption,
  PORT_RANGE,
  platformDir,
  platformDirOption,
} from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";

export const localCommand: CliCommand = (ctx) => {
  const dataDirOf = (given: string | undefined) => platformDir(ctx.io, given);
  return defineCommand({
    command: "local <action>",
    describe: "Run the local platform: a CML-compatible API that runs jobs, apps and models on this machine",
    builder: (y) =>
      platformDirOption(y, `where state, project files and logs live (default ${DEFAULT_LOCAL_DATA_DIR})`)
        .command(
          "up",
          "Start the platform in the background (a second `up` reports the running one)",
          (s) =>
            s
              .option(
                "port",
                numberOption("port", PORT_RANGE, { default: 0, describe: "API port on 127.0.0.1 (0 = any free port)" }),
              )
              .example("$0 local up", "start on any free port; a second call reports the running platform")
              .example("$0 local up --port 8090 --data-dir /tmp/cml", "a fixed port and a separate data directory"),
          async (args) => {
            const result = await localUp({ dataDir: dataDirOf(args["data-dir"]), port: args.port });
            const { record } = result;
            ctx.io.stdout(
              `${result.alreadyRunning ? "already running" : "started"}: ${record.apiUrl} (pid ${record.pid})\n` +
                `API key in ${record.apiKeyFile}; server log ${result.logFile}\n` +
                `deploy commands find it through ${serverRecordFile(record.dataDir)} (--target local)\n`,
            );
          },
        )
        .command(
          "status",
          "Show whether the platform runs, its URL and API key",
          (s) =>
            s
              .option("json", { type: "boolean", default: false, describe: "print { apiUrl, apiKey, dataDir, pid }" })
              .example("$0 local status", "running: http://127.0.0.1:…, and the API key")
              .example("$0 local status --json | jq -r .apiUrl", "the URL for a script"),
          async (args) => {
            const dataDir = dataDirOf(args["data-dir"]);
            const record = await runningServer(dataDir);
            if (!record) {
              if (args.json) ctx.io.stdout(`${JSON.stringify({ running: false, dataDir })}\n`);
              else ctx.io.stdout(`not running (data dir ${dataDir}); start it with \`deploy local up\`\n`);
              ctx.exitCode = 1;
              return;
            }
            const apiKey = await readServerApiKey(record);
            if (args.json) {
              ctx.io.stdout(
                `${JSON.stringify({ apiUrl: record.apiUrl, apiKey, dataDir, pid: record.pid }, null, 2)}\n`,
              );
            } else {
              ctx.io.stdout(`running: ${record.apiUrl} (pid ${record.pid}, data dir ${dataDir})\nAPI key: ${apiKey}\n`);
            }
          },
        )
        .command(
          "down",
          "Stop the platform and every workload it runs",
          (s) => s.example("$0 local down", "stop it; prints 'not running' when nothing runs"),
          async (args) => {
            const result = await localDown(dataDirOf(args["data-dir"]));
            ctx.io.stdout(result.stopped ? `stopped (pid ${result.pid})\n` : "not running\n");
            if (result.leftovers > 0)
              ctx.io.stdout(`ended ${result.leftovers} workload processes left by a server that had stopped\n`);
          },
        )
        .command(
          "logs <kind> <name>",
          "Print the latest log of a job (newest run), an application, or a model (newest deployment)",
          (s) =>
            s
              .positional("kind", { choices: ["job", "app", "model"] as const, demandOption: true })
              .positional("name", { type: "string", demandOption: true, describe: "object name (or app subdomain)" })
              .example("$0 local logs job scrape", "the newest run of the job named scrape")
              .example("$0 local logs app llm-hol", "the log of the application with subdomain llm-hol"),
          async (args) => {
            if (!args.name) throw new UserError("name a job, app or model");
            ctx.io.stdout(await localLogs(dataDirOf(args["data-dir"]), args.kind, args.name));
          },
        )
        .demandCommand(1, "Name a local action; see deploy local --help.")
        .example("$0 local up", "start the platform; then: deploy apply manifests/lab.yaml --target local")
        .example("$0 local status --json", "its URL, API key, data directory and pid as JSON"),
    handler: () => {},
  });
};
