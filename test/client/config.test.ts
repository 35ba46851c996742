import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import {
  chooseRuntime,
  compareVersions,
  connectionFromEnv,
  createCmlClient,
  createCmlClientFromEnv,
  downloadProjectFile,
  envFromWire,
  envToWire,
  redact,
  resolveRuntime,
  runtimePair,
  unwrap,
  uploadProjectFile,
} from "../../src/client/index.js";
import { UserError } from "../../src/shared/errors.js";
import { API_KEY, BASE, useMswServer } from "./msw.js";

const server = useMswServer();

describe("configuration from the environment", () => {
  it("prefers CML_API_URL/CML_API_KEY", () => {
    expect(
      connectionFromEnv({ CML_API_URL: "https://a", CML_API_KEY: "k", CDSW_API_URL: "https://b/api/v1" }),
    ).toMatchObject({
      baseUrl: "https://a",
      apiKey: "k",
    });
  });

  it("inside a CML workload derives v2 from CDSW_API_URL (a v1 URL) and uses CDSW_APIV2_KEY", async () => {
    let url = "";
    server.use(
      http.get(`${BASE}/api/v2/projects`, ({ request }) => {
        url = request.url;
        return HttpResponse.json({ projects: [] });
      }),
    );
    const api = createCmlClientFromEnv({ CDSW_API_URL: `${BASE}/api/v1`, CDSW_APIV2_KEY: API_KEY });
    await unwrap(api.GET("/api/v2/projects"));
    expect(url).toBe(`${BASE}/api/v2/projects`);
    expect(connectionFromEnv({ CDSW_DOMAIN: "ml.example", CDSW_APIV2_KEY: "k" }).baseUrl).toBe("https://ml.example");
  });

  it("names the variables to set when nothing is configured", () => {
    const error = (() => {
      try {
        connectionFromEnv({});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(String(error)).toContain(
      "set CML_API_URL (or CDSW_API_URL / CDSW_DOMAIN inside CML) and CML_API_KEY (or CDSW_APIV2_KEY inside CML)",
    );
  });
});

describe("wire helpers", () => {
  it("round-trips environment maps through the JSON-string wire form, with stable key order", () => {
    expect(envToWire({ b: "2", a: "1" })).toBe('{"a":"1","b":"2"}');
    expect(envFromWire('{"a":"1","n":2}')).toEqual({ a: "1", n: "2" });
    expect(envFromWire("")).toEqual({});
    expect(envFromWire("not json")).toEqual({});
  });

  it("always sends runtime and add-ons as a pair", () => {
    expect(runtimePair("img:1")).toEqual({ runtime_identifier: "img:1", runtime_addon_identifiers: [] });
  });

  it("redacts secrets, longest first", () => {
    expect(redact("key=abcd1234 and abcd1234-long", ["abcd1234", "abcd1234-long", "ab"])).toBe(
      "key=(secret) and (secret)",
    );
  });
});

describe("runtimes", () => {
  const catalogue = [
    {
      image_identifier: "img:py311-2024",
      editor: "Workbench",
      kernel: "Python 3.11",
      edition: "Standard",
      full_version: "2024.10.1-b12",
    },
    {
      image_identifier: "img:py311-2025-b5",
      editor: "Workbench",
      kernel: "Python 3.11",
      edition: "Standard",
      full_version: "2025.09.1-b5",
    },
    {
      image_identifier: "img:py311-2025-b10",
      editor: "Workbench",
      kernel: "Python 3.11",
      edition: "Standard",
      full_version: "2025.09.1-b10",
    },
    {
      image_identifier: "img:disabled",
      editor: "Workbench",
      kernel: "Python 3.11",
      edition: "Standard",
      full_version: "2026.01.1-b1",
      status: "DISABLED",
    },
    {
      image_identifier: "img:jl",
      editor: "JupyterLab",
      kernel: "Python 3.12",
      edition: "Standard",
      full_version: "2025.09.1-b5",
    },
  ];

  it("picks the newest enabled match, or the requested version", async () => {
    server.use(
      http.get(`${BASE}/api/v2/runtimes`, () => HttpResponse.json({ runtimes: catalogue, next_page_token: "" })),
    );
    const api = createCmlClient({ baseUrl: BASE, apiKey: API_KEY });
    expect(
      (await resolveRuntime(api, { editor: "Workbench", kernel: "Python 3.11", edition: "Standard" })).image_identifier,
    ).toBe("img:py311-2025-b10");
    expect(
      chooseRuntime(catalogue, { editor: "Workbench", kernel: "Python 3.11", edition: "Standard", version: "2024" })
        .image_identifier,
    ).toBe("img:py311-2024");
    expect(compareVersions("2025.09.1-b10", "2025.09.1-b5")).toBeGreaterThan(0);
  });

  it("lists the nearest candidates when nothing matches", () => {
    const error = (() => {
      try {
        chooseRuntime(catalogue, { editor: "Workbench", kernel: "Python 3.12", edition: "Standard" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe("no enabled ML Runtime matches Workbench / Python 3.12 / Standard");
    expect((error as UserError).notes[1]).toBe("JupyterLab / Python 3.12 / Standard / 2025.09.1-b5");
  });
});

describe("project files", () => {
  it("uploads with the destination path as the multipart field name, and downloads bytes", async () => {
    let field = "";
    let content = "";
    server.use(
      http.post(`${BASE}/api/v2/projects/:pid/files`, async ({ request }) => {
        const form = await request.formData();
        for (const [name, value] of form.entries()) {
          field = name;
          content = typeof value === "string" ? value : await value.text();
        }
        return new HttpResponse(null, { status: 200 });
      }),
      http.post(`${BASE}/api/v2/projects/:pid/files/:path`, ({ params }) =>
        String(params.path) === "workloads%2Fapp.py:download" || String(params.path) === "workloads/app.py:download"
          ? new HttpResponse(new Uint8Array([1, 2, 3]), { headers: { "content-type": "application/octet-stream" } })
          : HttpResponse.json({ message: `unexpected ${String(params.path)}` }, { status: 404 }),
      ),
    );
    const api = createCmlClient({ baseUrl: BASE, apiKey: API_KEY });
    await uploadProjectFile(api, "p111-p222-p333-p444", "workloads/app.py", "print('hi')");
    expect(field).toBe("workloads/app.py");
    expect(content).toBe("print('hi')");
    expect([...(await downloadProjectFile(api, "p111-p222-p333-p444", "workloads/app.py"))]).toEqual([1, 2, 3]);
  });

  it.each(["../etc/passwd", "/abs/path", "a/../../b", ""])("refuses the path %j", async (path) => {
    const api = createCmlClient({ baseUrl: BASE, apiKey: API_KEY });
    await expect(uploadProjectFile(api, "p", path, "x")).rejects.toBeInstanceOf(UserError);
  });
});
