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
