// The one place where the vendored CML v2 Swagger spec is corrected before conversion.
// Every patch names its evidence; openapi/README.md lists them for readers of the spec.
// Patches must be idempotent and must throw when the spot they fix is no longer there,
// so that a new upstream spec that fixed (or moved) a defect is noticed, not silently mis-patched.

const UPLOAD = "/api/v2/projects/{project_id}/files";
const DOWNLOAD = "/api/v2/projects/{project_id}/files/{path}:download";
// A function, not a shared constant: swagger2openapi rejects one object reachable from two places.
const errorResponse = () => ({
  description: "An unexpected error response.",
  schema: { $ref: "#/definitions/runtimeError" },
});

/** @param {any} spec Swagger 2.0 document (not mutated) */
export function applySpecPatches(spec) {
  const s = structuredClone(spec);

  // P1 UploadFile: the spec declares a formData field literally named `file`, but CML takes the
  // form field NAME as the destination path relative to /home/cdsw (openapi/FACTS.md §1, verified live by
  // cai-connector). Swagger 2.0 cannot express "any field name", so drop the formData parameter here
  // and declare the request body as an OpenAPI 3 map of path -> binary after conversion (see P1b).
  const upload = must(s.paths[UPLOAD]?.post, "UploadFile");
  upload.parameters = upload.parameters.filter((p) => p.in !== "formData");
  upload["x-cml-lab-multipart-by-path"] = true;
  upload.responses.default = errorResponse();

  // P2 DownloadProjectFile answers raw bytes but declares no response schema (openapi/FACTS.md §1).
  const download = must(s.paths[DOWNLOAD]?.post, "DownloadProjectFile");
  download.produces = ["application/octet-stream"];
  download.responses["200"] = { description: "The file's bytes.", schema: { type: "string", format: "binary" } };
  download.responses.default = errorResponse();

  // P3 The security scheme's header name is the prose "authorization (e.g. 'authorization: Bearer APIKEY')"
  // (openapi/FACTS.md §1); tools that honour it would send a header with that literal name. CML reads `Authorization`.
  must(s.securityDefinitions?.BearerAuth, "securityDefinitions.BearerAuth").name = "Authorization";

  return s;
}

/** Applied to the converted OpenAPI 3 document (swagger2openapi cannot carry P1 through). */
export function applyOpenApiPatches(openapi) {
  const o = structuredClone(openapi);
  const upload = must(o.paths[UPLOAD]?.post, "UploadFile (converted)");
  // P1b: multipart body whose keys are destination paths and whose values are file contents.
  upload.requestBody = {
    required: true,
    content: {
      "multipart/form-data": {
        schema: { type: "object", additionalProperties: { type: "string", format: "binary" } },
      },
    },
  };
  delete upload["x-cml-lab-multipart-by-path"];
  return o;
}

function must(value, what) {
  if (value === undefined || value === null) throw new Error(`spec patch target not found: ${what}`);
  return value;
}
