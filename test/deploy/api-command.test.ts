import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { API_KEY, BASE, useMswServer } from "../client/msw.js";

const server = useMswServer();

function bufferIo(env: NodeJS.ProcessEnv): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    isTTY: false,
    env,
    cwd: "/nonexistent-cwd",
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}

describe("deploy api", () => {
  const env = { CML_API_URL: BASE, CML_API_KEY: API_KEY };

  it("sends typed fields as query parameters on GET and prints JSON", async () => {
    let query = "";
    server.use(
      http.get(`${BASE}/api/v2/projects`, ({ request }) => {
        query = new URL(request.url).search;
        return HttpResponse.json({ projects: [{ name: "a" }] });
      }),
    );
    const io = bufferIo(env);
    expect(await main(["api", "get", "/projects", "-F", "page_size=5"], io)).toBe(0);
    expect(query).toBe("?page_size=5");
    expect(JSON.parse(io.out)).toEqual({ projects: [{ name: "a" }] });
  });

  it("sends fields as a JSON body on POST, typed (-F) and raw (-f)", async () => {
    let body: unknown;
    server.use(
      http.post(`${BASE}/api/v2/projects`, async ({ request }) => {
        body = await request.json();
        return HttpResponse.json({ id: "p" });
      }),
    );
    expect(
      await main(["api", "POST", "projects", "-f", "name=123", "-F", "shared_memory_limit=64"], bufferIo(env)),
    ).toBe(0);
    expect(body).toEqual({ name: "123", shared_memory_limit: 64 });
  });

  it("prints an API failure as a user-facing error with exit 1 and no key", async () => {
    server.use(
      http.get(`${BASE}/api/v2/projects/:id`, () =>
        HttpResponse.json({ message: "project not found", code: 5 }, { status: 404 }),
      ),
    );
    const io = bufferIo(env);
    expect(await main(["api", "GET", "/projects/abcd-efgh-ijkl-mnop"], io)).toBe(1);
    expect(io.err).toContain("GET /api/v2/projects/abcd-efgh-ijkl-mnop → 404 Not Found: project not found");
    // The platform's refusal is an answer for the user, not an internal error.
    expect(io.err).toMatch(/^error: /);
    expect(io.err).not.toContain("internal error");
    expect(io.err + io.out).not.toContain(API_KEY);
  });

  it("a workspace that does not answer, or fails, is the user's error with what to check, not a bug (real bin)", async () => {
    const bin = join(import.meta.dirname, "..", "..", "bin", "deploy.js");
    const call = (url: string) =>
      promisify(execFile)(process.execPath, [bin, "api", "GET", "/projects"], {
        env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", CML_API_URL: url, CML_API_KEY: "k3y-never-printed" },
      }).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
    // A closed port: the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await call(`http://127.0.0.1:${port}/`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: GET \/api\/v2\/projects → Network: .*ECONNREFUSED.*\n {2}the workspace did not answer: check the target's url \(CML_API_URL\)/,
    );
    // A workspace that answers 503 to every try.
    const failing = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    try {
      const failed = await call(`http://127.0.0.1:${(failing.address() as AddressInfo).port}/`);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(
        /^error: GET \/api\/v2\/projects → 503.*\n {2}the workspace failed to answer \(after retries\)/,
      );
      for (const r of [refused, failed]) {
        expect(r.stderr).not.toContain("internal error");
        expect(r.stderr).not.toContain("k3y-never-printed");
      }
    } finally {
      failing.close();
    }
  }, 60_000);

  it("explains what to set when no workspace or local platform is configured", async () => {
    const io = bufferIo({});
    expect(await main(["api", "GET", "/projects"], io)).toBe(1);
    expect(io.err).toContain("error: no CML workspace configured: set CML_API_URL");
    expect(io.err).not.toContain("internal error");
  });

  it("rejects an unknown flag (strict parsing)", async () => {
    const io = bufferIo(env);
    expect(await main(["api", "GET", "/projects", "--feild", "x=1"], io)).toBe(1);
    expect(io.err).toMatch(/Unknown argument/);
  });
});
