/**
 * `cml-lab start` (what `npm start` runs): the most complete thing that works. Grows with the project:
 * today it explains the client and the raw API command; the local platform and the lab join as they land.
 */
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";

export const startCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "start",
    describe: "Bring up what cml-lab can run on this machine and print how to use it",
    handler: () => {
      ctx.io.stdout(
        [
          "cml-lab: the typed CML v2 client is ready (src/client, package export cml-lab/client).",
          "",
          "Try it against a workspace:",
          "  export CML_API_URL=https://<your-workbench> CML_API_KEY=<API v2 key>",
          "  npx deploy api GET /projects -F page_size=5",
          "",
          "The local platform, manifests and the lab's workloads are being built; see README.md.",
          "",
        ].join("\n"),
      );
    },
  });
