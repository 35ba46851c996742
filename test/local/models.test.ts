import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CmlClient, unwrap, waitFor, waits } from "../../src/client/index.js";
import { NODE, PYTHON, readyProject, startTestPlatform, type TestPlatform, upload } from "./helpers.js";

let t: TestPlatform;
beforeEach(async () => {
  t = await startTestPlatform();
});
afterEach(async () => {
  await t.close();
  expect(t.specProblems).toEqual([]);
});

async function buildAndDeploy(api: CmlClient, projectId: string, file: string, fn: string, runtime: string) {
  const model = await unwrap(
    api.POST("/api/v2/projects/{project_id}/models", {
      params: { path: { project_id: projectId } },
      body: { name: `m-${fn}`, description: "test", disable_authentication: true },
    }),
  );
  const modelId = model.id ?? "";
  const build = await unwrap(
    api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds", {
      params: { path: { project_id: projectId, model_id: modelId } },
      body: { file_path: file, function_name: fn, runtime_identifier: runtime },
    }),
  );
  const built = await waits.modelBuildBuilt(api, projectId, modelId, build.id ?? "", {
    timeoutMs: 20_000,
    intervalMs: 50,
  });
  const deployment = await unwrap(
    api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
      params: { path: { project_id: projectId, model_id: modelId, build_id: built.id ?? "" } },
      body: { cpu: 1, memory: 2, environment: { SUFFIX: "!" } },
    }),
  );
  const deployed = await waits.modelDeploymentDeployed(
    api,
    { projectId, modelId, buildId: built.id ?? "", deploymentId: deployment.id ?? "" },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
  return { model, build: built, deployment: deployed };
}

async function callModel(accessKey: string, request: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${t.platform.modelServiceUrl}/model`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ accessKey, request }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("models", () => {
  it("builds and deploys a Node model and answers POST /model with {success, response}", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, {
      "model.js":
        "export async function predict(request) { return { echo: request.text + process.env.SUFFIX, n: request.n * 2 }; }",
    });
    const { model, deployment } = await buildAndDeploy(t.api, p, "model.js", "predict", NODE);
    expect(deployment.status).toBe("deployed");
    const started = Date.now();
    const answer = await callModel(model.access_key ?? "", { text: "hi", n: 21 });
    const latency = Date.now() - started;
    expect(answer).toEqual({ status: 200, body: { success: true, response: { echo: "hi!", n: 42 } } });
    expect(latency).toBeLessThan(2000);
  });

  it("serves a Python model (with the cml.models_v1 decorator) and stops it", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, {
      "model.py": [
        "import cml.models_v1 as models",
        "@models.cml_model",
        "def predict(args):",
        "    return {'upper': args['text'].upper()}",
      ].join("\n"),
    });
    const { model, build, deployment } = await buildAndDeploy(t.api, p, "model.py", "predict", PYTHON);
    expect(await callModel(model.access_key ?? "", { text: "abc" })).toEqual({
      status: 200,
      body: { success: true, response: { upper: "ABC" } },
    });
    const stopped = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments/{deployment_id}:stop", {
        params: {
          path: {
            project_id: p,
            model_id: model.id ?? "",
            build_id: build.id ?? "",
            deployment_id: deployment.id ?? "",
          },
        },
      }),
    );
    expect(stopped.status).toBe("stopped");
    const after = await callModel(model.access_key ?? "", { text: "abc" });
    expect(after.status).toBe(503);
    expect(after.body.success).toBe(false);
  });

  it("fails a build whose function is missing, and refuses to deploy it", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "model.py": "def other(x):\n    return x\n" });
    const model = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/models", { params: { path: { project_id: p } }, body: { name: "m" } }),
    );
    const build = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds", {
        params: { path: { project_id: p, model_id: model.id ?? "" } },
        body: { file_path: "model.py", function_name: "predict", runtime_identifier: PYTHON },
      }),
    );
    const finished = await waitFor(
      () =>
        unwrap(
          t.api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}", {
            params: { path: { project_id: p, model_id: model.id ?? "", build_id: build.id ?? "" } },
          }),
        ),
      { what: "build", status: (b) => b.status, until: (b) => b.status !== "pending", intervalMs: 50 },
    );
    expect(finished.status).toBe("build failed");
    const deploy = await t.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
      params: { path: { project_id: p, model_id: model.id ?? "", build_id: build.id ?? "" } },
      body: {},
    });
    expect(deploy.response.status).toBe(400);
  });

  it("requires the API key for models with authentication enabled, and rejects unknown access keys", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "m.mjs": "export const f = (r) => r;" });
    const model = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/models", {
        params: { path: { project_id: p } },
        body: {
          name: "secure",
          auto_build_model: true,
          auto_build_config: { file_path: "m.mjs", function_name: "f", runtime_identifier: NODE },
          auto_deploy_model: true,
          auto_deployment_config: {},
        },
      }),
    );
    expect(model.auth_enabled).toBe(true);
    const key = model.access_key ?? "";
    const ok = await waitFor(() => callModel(key, { a: 1 }, { Authorization: `Bearer ${t.platform.apiKey}` }), {
      what: "auto-deployed model to answer",
      status: (r) => String(r.status),
      until: (r) => r.status === 200,
      intervalMs: 50,
      timeoutMs: 20_000,
    });
    expect(ok.body).toEqual({ success: true, response: { a: 1 } });
    expect((await callModel(key, { a: 1 })).status).toBe(401);
    expect((await callModel("nope", { a: 1 })).status).toBe(404);
  });
});
