/**
 * The packages only the workloads use (the Chroma client and its server bindings, Pinecone, the Bedrock SDK and
 * its proxy handler, transformers.js with onnxruntime, the scraper's HTML libraries) are optional peer
 * dependencies of cml-lab, so a project that installs cml-lab for `cml-lab/client` or `cml-lab/deploy` does not
 * get them (about 590 MB). The repository's `npm ci` installs them (they are devDependencies too), and so do the
 * runtime image and the install job (launchers/install.py). Code that needs one loads it through here, on first
 * use: a missing package is a UserError that names it and the command that installs it, never a stack trace.
 */
import { createRequire } from "node:module";
import { UserError } from "./errors.js";

/** name → version range, from cml-lab's own package.json (one list: the message cannot drift from it). */
function peerRanges(): Readonly<Record<string, string>> {
  // dist/shared/ and src/shared/ both sit two levels below the package root.
  const manifest: unknown = createRequire(import.meta.url)("../../package.json");
  const peers =
    typeof manifest === "object" && manifest !== null && "peerDependencies" in manifest
      ? manifest.peerDependencies
      : undefined;
  if (typeof peers !== "object" || peers === null)
    throw new Error("bug: cml-lab's package.json has no peerDependencies");
  return Object.fromEntries(
    Object.entries(peers).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

let ranges: Readonly<Record<string, string>> | undefined;
const workloadRanges = () => {
  ranges ??= peerRanges();
  return ranges;
};

function installCommand(names: readonly string[]): string {
  const specs = names.map((name) => {
    const range = workloadRanges()[name];
    const spec = range ? `${name}@${range}` : name;
    // `^` and spaces mean something to some shells; `~` after `@` does not.
    return /^[\w@/.~-]+$/.test(spec) ? spec : `"${spec}"`;
  });
  return `npm install ${specs.join(" ")}`;
}

/** `purpose` says what needs them, as the user asked for it: `--store chroma`, `cml-lab ingest`. */
export function workloadPackagesMissing(purpose: string, names: readonly string[], cause?: unknown): UserError {
  const one = names.length === 1;
  return new UserError(`${purpose} needs ${names.join(", ")}, which ${one ? "is" : "are"} not installed`, {
    cause,
    notes: [
      `install ${one ? "it" : "them"} with ${installCommand(names)}`,
      "cml-lab installed as a dependency leaves out the packages only its workloads use; all of them: " +
        installCommand(Object.keys(workloadRanges())),
    ],
  });
}

function resolvable(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Throws the UserError above, naming every missing one, unless each package resolves as `import()` would. */
export function assertWorkloadPackages(purpose: string, names: readonly string[]): void {
  const missing = names.filter((name) => !resolvable(name));
  if (missing.length > 0) throw workloadPackagesMissing(purpose, missing);
}

/** The workload package a module-not-found error is about, if it is one of them. */
function missingWorkloadPackage(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  if (error.code !== "ERR_MODULE_NOT_FOUND" && error.code !== "MODULE_NOT_FOUND") return undefined;
  const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(error.message)?.[1] ?? "";
  const name = specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
  return Object.hasOwn(workloadRanges(), name) ? name : undefined;
}

/**
 * Checks `names`, then runs `load` (a dynamic `import()` of the package, or of the module that uses it): a
 * workload package missing deeper down, one `names` forgot, still becomes the same UserError.
 */
export async function loadWorkload<T>(purpose: string, names: readonly string[], load: () => Promise<T>): Promise<T> {
  assertWorkloadPackages(purpose, names);
  try {
    return await load();
  } catch (error) {
    const missing = missingWorkloadPackage(error);
    throw missing ? workloadPackagesMissing(purpose, [missing], error) : error;
  }
}
