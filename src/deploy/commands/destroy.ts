/**
 * `deploy destroy [manifest]`: delete everything carrying this stack's marker, children first, keeping what the
 * manifest marks prevent_destroy. Running it twice is a no-op.
 */
import {
  LOCK_TIMEOUT,
  manifestOptions,
  numberOption,
  PARALLELISM_RANGE,
  platformDirOption,
} from "../../shared/cli-options.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { executeCommand } from "./apply.js";

export const destroyCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "destroy [manifest]",
    describe: "Delete everything this stack created (respects prevent_destroy)",
    builder: (y) =>
      platformDirOption(
        manifestOptions(y)
          .option("auto-approve", { type: "boolean", default: false, describe: "delete without asking" })
          .option(
            "parallelism",
            numberOption("parallelism", PARALLELISM_RANGE, { default: 8, describe: "API requests in flight at once" }),
          )
          .option("json", { type: "boolean", default: false, describe: "NDJSON events on stdout" })
          .option("lock-timeout", LOCK_TIMEOUT),
      )
        .example("$0 destroy manifests/lab.yaml --target local", "list what would be deleted and ask first")
        .example("$0 destroy --auto-approve --json", "CI: delete without asking, NDJSON events on stdout"),
    handler: (args) =>
      executeCommand(ctx, { ...args, adopt: false, "detailed-exitcode": false, "wait-timeout": 600 }, true),
  });
