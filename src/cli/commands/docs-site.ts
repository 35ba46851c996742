/**
 * `cml-lab docs-site <dir>`: serves a documentation directory with a generated html_links.txt and sitemap.xml.
 * On the local platform the lab runs it as an application, so the scrape job fetches the bundled sample corpus
 * over real HTTP, as it fetches docs.cloudera.com on a workspace.
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { startDocsSite } from "../../lab/docs-site.js";
import { numberOption, PORT_RANGE } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";

interface DocsSiteArgs {
  dir: string;
  host: string;
  port: number | undefined;
}

export const docsSiteCommand: CliCommand = (ctx) =>
  defineCommand<DocsSiteArgs>({
    command: "docs-site <dir>",
    describe: "Serve a directory of HTML docs with /html_links.txt and /sitemap.xml (the lab's offline doc source)",
    builder: (y) =>
      y
        .positional("dir", { type: "string", demandOption: true, describe: "Directory of HTML pages" })
        .option("host", { type: "string", default: "127.0.0.1" })
        .option(
          "port",
          numberOption("port", PORT_RANGE, { describe: "Port (default: CDSW_APP_PORT, else any free port)" }),
        )
        .example(
          "$0 docs-site samples/python-docs --port 8200",
          "then: cml-lab ingest scrape --links http://127.0.0.1:8200/html_links.txt --allow-private",
        ),
    handler: async (args) => {
      const root = resolve(ctx.io.cwd, args.dir);
      if (!existsSync(root)) throw new UserError(`no such directory: ${root}`);
      const port = args.port ?? (Number(ctx.io.env.CDSW_APP_PORT) || undefined);
      const site = await startDocsSite({ root, host: args.host, port });
      ctx.io.stdout(`docs-site: ${site.pages.length} pages at ${site.url} (links: ${site.url}/html_links.txt)\n`);
      await new Promise<void>((stop) => {
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      await site.close();
    },
  });
