/**
 * The programs that host a model function: a Node harness imports the file and calls the named export; a
 * Python harness imports the module and calls the function. With `--check` they only load it (the "build");
 * otherwise they answer `POST /` `{request}` with `{response}` on CML_LOCAL_MODEL_PORT (one request at a time,
 * like a CML replica). Written into the data directory at start, so they work from src/ and dist/ alike.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const NODE_HARNESS = `// cml-local model harness (generated): node model-harness.mjs FILE FUNCTION [--check]
import { createServer } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [file, name, mode] = process.argv.slice(2);
let mod;
try {
  mod = await import(pathToFileURL(resolve(file)).href);
} catch (error) {
  console.error(\`cannot load \${file}: \${error?.stack ?? error}\`);
  process.exit(2);
}
const fn = typeof mod[name] === "function" ? mod[name] : mod.default?.[name];
if (typeof fn !== "function") {
  console.error(\`\${file} has no exported function \${name}\`);
  process.exit(3);
}
if (mode === "--check") {
  console.log(\`\${file}: function \${name} found\`);
  process.exit(0);
}
let queue = Promise.resolve();
createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    queue = queue.then(async () => {
      res.setHeader("content-type", "application/json");
      if (req.method !== "POST") return res.end('{"ok":true}');
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        const out = await fn(body.request);
        res.end(JSON.stringify({ response: out === undefined ? null : out }));
      } catch (error) {
        console.error(error?.stack ?? String(error));
        res.statusCode = 500;
        res.end(JSON.stringify({ error: String(error?.message ?? error) }));
      }
    });
  });
}).listen(Number(process.env.CML_LOCAL_MODEL_PORT), "127.0.0.1", () => console.log(\`serving \${name} from \${file}\`));
`;

const PYTHON_HARNESS = `# cml-local model harness (generated): python3 model_harness.py FILE FUNCTION [--check]
import importlib.util, json, os, sys, traceback
from http.server import BaseHTTPRequestHandler, HTTPServer

file, name = sys.argv[1], sys.argv[2]
check = len(sys.argv) > 3 and sys.argv[3] == "--check"
sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.dirname(os.path.abspath(file)))
try:
    spec = importlib.util.spec_from_file_location("cml_model", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
except Exception:
    traceback.print_exc()
    sys.exit(2)
fn = getattr(module, name, None)
if not callable(fn):
    print(f"{file} has no function {name}", file=sys.stderr)
    sys.exit(3)
if check:
    print(f"{file}: function {name} found", flush=True)
    sys.exit(0)

class Handler(BaseHTTPRequestHandler):
    def reply(self, code, payload):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, {"ok": True})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            self.reply(200, {"response": fn(body.get("request"))})
        except Exception as error:
            traceback.print_exc()
            sys.stderr.flush()
            self.reply(500, {"error": str(error)})

    def log_message(self, *args):
        pass

print(f"serving {name} from {file}", flush=True)
HTTPServer(("127.0.0.1", int(os.environ["CML_LOCAL_MODEL_PORT"])), Handler).serve_forever()
`;

/** PBJ runtimes want \`@cml.models_v1.cml_model\` on model functions; locally it is a pass-through. */
const CML_STUB = `def cml_model(func=None, **kwargs):
    if func is None:
        return lambda f: f
    return func
`;

export interface Harnesses {
  node: string;
  python: string;
  /** Prepended to PYTHONPATH so \`import cml.models_v1\` works. */
  pythonPath: string;
}

export async function writeHarnesses(dataDir: string): Promise<Harnesses> {
  const dir = join(dataDir, "harness");
  const stubs = join(dir, "python");
  await mkdir(join(stubs, "cml"), { recursive: true });
  const node = join(dir, "model-harness.mjs");
  const python = join(dir, "model_harness.py");
  await writeFile(node, NODE_HARNESS);
  await writeFile(python, PYTHON_HARNESS);
  await writeFile(join(stubs, "cml", "__init__.py"), "");
  await writeFile(join(stubs, "cml", "models_v1.py"), CML_STUB);
  return { node, python, pythonPath: stubs };
}
