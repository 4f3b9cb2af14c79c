// Fails when app/static/dist/ differs from git after a build: changed or deleted tracked files
// (`git diff --exit-code`, i.e. against the index: what is committed or about to be) or files
// git does not track there (untracked or git-ignored alike, since the app would serve them).
// Usage: cd frontend && npm run check   (build, then this script)
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = "app/static/dist";

function git(...args) {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.error) throw r.error;
  return r;
}

const diff = git("diff", "--exit-code", "--stat", "--", dist);
if (diff.status !== 0 && diff.status !== 1) process.exit(diff.status ?? 2);
const others = git("ls-files", "--others", "--", dist);
if (others.status !== 0) process.exit(others.status ?? 2);

let failed = false;
if (diff.status === 1) {
  failed = true;
  console.error(`${dist} differs from git after a fresh build:\n${diff.stdout}`);
}
if (others.stdout.trim()) {
  failed = true;
  console.error(`${dist} has files git does not track:\n${others.stdout}`);
}
if (failed) {
  console.error(
    "Commit the rebuilt bundles with the source change that caused them; if the sources did not\n" +
      "change, the build is not reproducible (esbuild version, Node, locale...): fix build.mjs.",
  );
  process.exit(1);
}
console.log(`${dist}: identical to git after a fresh build`);
